// Runs the plugin's real XoTrackerLibrary.Build.cs outside the engine (check.sh compiles it with
// Mono's mcs together with this file): a stand-in of the few UnrealBuildTool types it uses, and a
// Main that instantiates the rules for every platform over a plugin folder and prints, per
// platform, what UnrealBuildTool would be told to link and stage.
//
//   mono BuildCsProbe.exe <XoTrackerLibrary module folder> <plugin folder>
//   Linux WITH_XO_TRACKER=1 link=Linux/x86_64-unknown-linux-gnu/libxo_tracker.so runtime=... delayload=
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace UnrealBuildTool
{
	public enum ModuleType { CPlusPlus, External }
	public enum PCHUsageMode { UseExplicitOrSharedPCHs }

	public class BuildException : Exception
	{
		public BuildException(string Message) : base(Message) {}
	}

	public struct UnrealTargetPlatform
	{
		private readonly string Name;
		private UnrealTargetPlatform(string InName) { Name = InName; }
		public static readonly UnrealTargetPlatform Win64 = new UnrealTargetPlatform("Win64");
		public static readonly UnrealTargetPlatform Mac = new UnrealTargetPlatform("Mac");
		public static readonly UnrealTargetPlatform Linux = new UnrealTargetPlatform("Linux");
		public static readonly UnrealTargetPlatform LinuxArm64 = new UnrealTargetPlatform("LinuxArm64");
		public static readonly UnrealTargetPlatform Android = new UnrealTargetPlatform("Android");
		public static readonly UnrealTargetPlatform IOS = new UnrealTargetPlatform("IOS");
		public static readonly UnrealTargetPlatform TVOS = new UnrealTargetPlatform("TVOS");
		public static bool operator ==(UnrealTargetPlatform A, UnrealTargetPlatform B) { return A.Name == B.Name; }
		public static bool operator !=(UnrealTargetPlatform A, UnrealTargetPlatform B) { return A.Name != B.Name; }
		public override bool Equals(object Other) { return Other is UnrealTargetPlatform && ((UnrealTargetPlatform)Other).Name == Name; }
		public override int GetHashCode() { return Name.GetHashCode(); }
		public override string ToString() { return Name; }
	}

	public class ReadOnlyTargetRules
	{
		public UnrealTargetPlatform Platform;
		public string Architecture = ""; // UE 5.1 style (a string); "iossimulator" for the simulator
	}

	public class RuntimeDependencyList
	{
		public readonly List<string> Staged = new List<string>();
		public void Add(string Path, string SourcePath) { Staged.Add(Path + " <- " + SourcePath); }
		public void Add(string Path) { Staged.Add(Path); }
	}

	public class ReceiptPropertyList
	{
		public readonly List<string> Items = new List<string>();
		public void Add(string Name, string Value) { Items.Add(Name + "=" + Value); }
	}

	public class ModuleRules
	{
		// Set by the probe before the rules' constructor runs (UBT sets them the same way).
		[ThreadStatic] public static string NextModuleDirectory;
		[ThreadStatic] public static string NextPluginDirectory;

		public ModuleType Type;
		public PCHUsageMode PCHUsage;
		public readonly string ModuleDirectory;
		public readonly string PluginDirectory;
		public readonly List<string> PublicIncludePaths = new List<string>();
		public readonly List<string> PublicAdditionalLibraries = new List<string>();
		public readonly List<string> PublicDelayLoadDLLs = new List<string>();
		public readonly List<string> PublicRuntimeLibraryPaths = new List<string>();
		public readonly List<string> PublicFrameworks = new List<string>();
		public readonly List<string> PublicSystemLibraries = new List<string>();
		public readonly List<string> PublicDefinitions = new List<string>();
		public readonly List<string> PublicDependencyModuleNames = new List<string>();
		public readonly List<string> PrivateDependencyModuleNames = new List<string>();
		public readonly RuntimeDependencyList RuntimeDependencies = new RuntimeDependencyList();
		public readonly ReceiptPropertyList AdditionalPropertiesForReceipt = new ReceiptPropertyList();

		public ModuleRules(ReadOnlyTargetRules Target)
		{
			ModuleDirectory = NextModuleDirectory;
			PluginDirectory = NextPluginDirectory;
		}
	}
}

public static class BuildCsProbe
{
	public static int Main(string[] Args)
	{
		string ModuleDir = Path.GetFullPath(Args[0]);
		string PluginDir = Path.GetFullPath(Args[1]);
		Func<IEnumerable<string>, string> Relative = Items => string.Join(",", Items.Select(
			Item => Item.Replace(ModuleDir + Path.DirectorySeparatorChar, "")));
		var Targets = new[] {
			Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.Win64, ""), Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.Mac, ""),
			Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.Linux, ""), Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.LinuxArm64, ""),
			Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.Android, ""), Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.IOS, ""),
			Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.IOS, "iossimulator"), Tuple.Create(UnrealBuildTool.UnrealTargetPlatform.TVOS, "") };
		foreach (var Entry in Targets)
		{
			UnrealBuildTool.UnrealTargetPlatform Platform = Entry.Item1;
			string Name = Platform + (Entry.Item2.Length > 0 ? "@" + Entry.Item2 : "");
			UnrealBuildTool.ModuleRules.NextModuleDirectory = ModuleDir;
			UnrealBuildTool.ModuleRules.NextPluginDirectory = PluginDir;
			TextWriter Console = System.Console.Out;
			System.Console.SetOut(System.Console.Error); // the rules' own log lines go to stderr
			XoTrackerLibrary Rules = new XoTrackerLibrary(new UnrealBuildTool.ReadOnlyTargetRules { Platform = Platform, Architecture = Entry.Item2 });
			System.Console.SetOut(Console);
			string Definition = Rules.PublicDefinitions.FirstOrDefault(D => D.StartsWith("WITH_XO_TRACKER=")) ?? "WITH_XO_TRACKER=?";
			System.Console.WriteLine(Name + " " + Definition
				+ " link=" + Relative(Rules.PublicAdditionalLibraries)
				+ " runtime=" + Relative(Rules.RuntimeDependencies.Staged)
				+ " delayload=" + Relative(Rules.PublicDelayLoadDLLs));
		}
		return 0;
	}
}
