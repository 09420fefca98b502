// The xo-tracker native library (Rust), as an external module: headers, link inputs and the files
// a packaged game must ship. bindings/unreal/package.sh fills this folder:
//
//   include/xo_tracker.h, include/xo_tracker.hpp
//   Win64/xo_tracker.dll, Win64/xo_tracker.dll.lib            (x86_64-pc-windows-msvc cdylib)
//   Mac/libxo_tracker.dylib                                     (universal: arm64 + x86_64)
//   Linux/x86_64-unknown-linux-gnu/libxo_tracker.so
//   Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so      (LinuxArm64)
//   Android/{arm64-v8a,armeabi-v7a,x86_64}/libxo_tracker.so
//   IOS/libxo_tracker.a                                         (aarch64-apple-ios staticlib)
//
// Desktop libraries are staged, in the editor and in packaged builds alike, to
// <Plugin>/Binaries/ThirdParty/XoTracker/<Platform>/, from where FXoTrackerModule::StartupModule
// loads them (XoTrackerModule.cpp, XoTrackerRuntimeLibraryPath, must agree with the paths here).

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
		bool bSupported = true;

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			string Dir = Path.Combine(ModuleDirectory, "Win64");
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "xo_tracker.dll.lib"));
			// Loaded by path in StartupModule; delay-loading keeps the game starting if it is missing.
			PublicDelayLoadDLLs.Add("xo_tracker.dll");
			RuntimeDependencies.Add(StagedDir + "/Win64/xo_tracker.dll", Path.Combine(Dir, "xo_tracker.dll"));
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			string Dylib = Path.Combine(ModuleDirectory, "Mac", "libxo_tracker.dylib");
			PublicDelayLoadDLLs.Add(Dylib);
			RuntimeDependencies.Add(StagedDir + "/Mac/libxo_tracker.dylib", Dylib);
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			string Arch = Target.Platform == UnrealTargetPlatform.LinuxArm64 ? "aarch64-unknown-linux-gnueabi" : "x86_64-unknown-linux-gnu";
			string So = Path.Combine(ModuleDirectory, "Linux", Arch, "libxo_tracker.so");
			PublicAdditionalLibraries.Add(So);
			RuntimeDependencies.Add(StagedDir + "/Linux/" + Arch + "/libxo_tracker.so", So);
			PublicRuntimeLibraryPaths.Add(Path.Combine(PluginDirectory, "Binaries", "ThirdParty", "XoTracker", "Linux", Arch));
		}
		else if (Target.Platform == UnrealTargetPlatform.Android)
		{
			// UBT links the one whose folder matches the architecture being built; the UPL file
			// copies it into the APK's libs/<abi>/ and loads it before the game library.
			foreach (string Abi in new string[] { "arm64-v8a", "armeabi-v7a", "x86_64" })
			{
				PublicAdditionalLibraries.Add(Path.Combine(ModuleDirectory, "Android", Abi, "libxo_tracker.so"));
			}
			AdditionalPropertiesForReceipt.Add("AndroidPlugin", Path.Combine(ModuleDirectory, "XoTrackerLibrary_UPL.xml"));
		}
		else if (Target.Platform == UnrealTargetPlatform.IOS)
		{
			// iOS allows no third-party dynamic library outside a framework: link the staticlib.
			PublicAdditionalLibraries.Add(Path.Combine(ModuleDirectory, "IOS", "libxo_tracker.a"));
			// What the Rust staticlib needs from the system (`cargo rustc --target aarch64-apple-ios
			// --crate-type staticlib -- --print native-static-libs` lists them).
			PublicFrameworks.AddRange(new string[] { "CoreFoundation", "Security", "SystemConfiguration" });
			PublicSystemLibraries.Add("iconv");
		}
		else
		{
			bSupported = false;
		}

		PublicDefinitions.Add("WITH_XO_TRACKER=" + (bSupported ? "1" : "0"));
	}
}
