// The xo-tracker native library (Rust), as an external module: headers, link inputs and the files
// a packaged game must ship. bindings/unreal/package.sh fills this folder with what was built:
//
//   include/xo_tracker.h, include/xo_tracker.hpp
//   Win64/xo_tracker.dll, Win64/xo_tracker.dll.lib            (x86_64-pc-windows-msvc cdylib)
//   Mac/libxo_tracker.dylib                                     (universal: arm64 + x86_64)
//   Linux/x86_64-unknown-linux-gnu/libxo_tracker.so
//   Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so      (LinuxArm64)
//   Android/{arm64-v8a,x86_64}/libxo_tracker.so                (UE5 builds no armeabi-v7a)
//   IOS/libxo_tracker.a                                         (aarch64-apple-ios staticlib)
//   IOS/Simulator/libxo_tracker.a                   (aarch64-apple-ios-sim + x86_64-apple-ios, lipo'd)
//
// Only files that exist are linked. A platform whose library is missing builds with
// WITH_XO_TRACKER=0: the plugin compiles and runs, logs that tracking is disabled, and every call
// fails with "not available" (Private/XoTrackerUnavailable.cpp). bindings/unreal/check.sh runs
// this file (under Mono, against a stand-in UnrealBuildTool) over the packaged plugin.
//
// Desktop libraries are staged, in the editor and in packaged builds alike, to
// <Plugin>/Binaries/ThirdParty/XoTracker/<Platform>/, from where FXoTrackerModule::StartupModule
// loads them (XoTrackerModule.cpp, XoTrackerRuntimeLibraryPath, must agree with the paths here).

using System.Collections.Generic;
using System.IO;
using UnrealBuildTool;

public class XoTrackerLibrary : ModuleRules
{
	public XoTrackerLibrary(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;

		string IncludeDir = Path.Combine(ModuleDirectory, "include");
		if (!File.Exists(Path.Combine(IncludeDir, "xo_tracker.h")) || !File.Exists(Path.Combine(IncludeDir, "xo_tracker.hpp")))
		{
			throw new BuildException("XoTracker: " + IncludeDir + " has no xo_tracker.h/.hpp. Run bindings/unreal/package.sh " +
				"from the xo-tracker repository and use the plugin folder it produces (see the plugin README).");
		}
		PublicIncludePaths.Add(IncludeDir);

		// Where the runtime library is staged; explicit destinations, so packaged builds ship it.
		string StagedDir = "$(PluginDir)/Binaries/ThirdParty/XoTracker";
		List<string> Missing = new List<string>();
		bool bLinked = false;

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			string Dll = Path.Combine(ModuleDirectory, "Win64", "xo_tracker.dll");
			string ImportLib = Path.Combine(ModuleDirectory, "Win64", "xo_tracker.dll.lib");
			if (Present(Missing, Dll, ImportLib))
			{
				PublicAdditionalLibraries.Add(ImportLib);
				// Loaded by path in StartupModule; delay-loading keeps the game starting if it is missing.
				PublicDelayLoadDLLs.Add("xo_tracker.dll");
				RuntimeDependencies.Add(StagedDir + "/Win64/xo_tracker.dll", Dll);
				bLinked = true;
			}
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			string Dylib = Path.Combine(ModuleDirectory, "Mac", "libxo_tracker.dylib");
			if (Present(Missing, Dylib))
			{
				PublicDelayLoadDLLs.Add(Dylib);
				RuntimeDependencies.Add(StagedDir + "/Mac/libxo_tracker.dylib", Dylib);
				bLinked = true;
			}
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			string Arch = Target.Platform == UnrealTargetPlatform.LinuxArm64 ? "aarch64-unknown-linux-gnueabi" : "x86_64-unknown-linux-gnu";
			string So = Path.Combine(ModuleDirectory, "Linux", Arch, "libxo_tracker.so");
			if (Present(Missing, So))
			{
				PublicAdditionalLibraries.Add(So);
				RuntimeDependencies.Add(StagedDir + "/Linux/" + Arch + "/libxo_tracker.so", So);
				PublicRuntimeLibraryPaths.Add(Path.Combine(PluginDirectory, "Binaries", "ThirdParty", "XoTracker", "Linux", Arch));
				bLinked = true;
			}
		}
		else if (Target.Platform == UnrealTargetPlatform.Android)
		{
			// UE5 builds arm64-v8a and x86_64 only. UBT links the one whose folder matches the
			// architecture being built; the UPL file copies it into the APK's libs/<abi>/ and loads
			// it before the game library. An architecture without its file is simply not linked.
			foreach (string Abi in new string[] { "arm64-v8a", "x86_64" })
			{
				string So = Path.Combine(ModuleDirectory, "Android", Abi, "libxo_tracker.so");
				if (Present(Missing, So))
				{
					PublicAdditionalLibraries.Add(So);
					bLinked = true;
				}
			}
			if (bLinked)
			{
				AdditionalPropertiesForReceipt.Add("AndroidPlugin", Path.Combine(ModuleDirectory, "XoTrackerLibrary_UPL.xml"));
			}
		}
		else if (Target.Platform == UnrealTargetPlatform.IOS)
		{
			// iOS allows no third-party dynamic library outside a framework: link the staticlib, the
			// simulator one for simulator builds (Target.Architecture: a string before UE 5.2, an
			// UnrealArch after; both print "...simulator..." for the simulator).
			bool bSimulator = Target.Architecture.ToString().ToLowerInvariant().Contains("simulator");
			string Static = bSimulator ? Path.Combine(ModuleDirectory, "IOS", "Simulator", "libxo_tracker.a")
				: Path.Combine(ModuleDirectory, "IOS", "libxo_tracker.a");
			if (Present(Missing, Static))
			{
				PublicAdditionalLibraries.Add(Static);
				// What the Rust staticlib needs from the system (`cargo rustc --target aarch64-apple-ios
				// --crate-type staticlib -- --print native-static-libs` lists them).
				PublicFrameworks.AddRange(new string[] { "CoreFoundation", "Security", "SystemConfiguration" });
				PublicSystemLibraries.Add("iconv");
				bLinked = true;
			}
		}
		else
		{
			Missing.Add("(no xo-tracker build exists for " + Target.Platform + ")");
		}

		if (Missing.Count > 0)
		{
			System.Console.WriteLine("XoTracker: " + (bLinked ? "not linking (absent): " : "order tracking DISABLED for " +
				Target.Platform + " (WITH_XO_TRACKER=0), no native library: ") + string.Join(", ", Missing) +
				". Build it and re-run bindings/unreal/package.sh (see the plugin README).");
		}
		PublicDefinitions.Add("WITH_XO_TRACKER=" + (bLinked ? "1" : "0"));
	}

	/** Whether every file exists; adds the absent ones to Missing. */
	private static bool Present(List<string> Missing, params string[] Files)
	{
		bool bAll = true;
		foreach (string Candidate in Files)
		{
			if (!File.Exists(Candidate))
			{
				Missing.Add(Candidate);
				bAll = false;
			}
		}
		return bAll;
	}
}
