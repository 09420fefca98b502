// The plugin's runtime module: a thin Unreal layer (module, settings, game-instance subsystem,
// Blueprint async node) over bindings/cpp/xo_tracker.hpp, where the logic lives and is tested.

using UnrealBuildTool;

public class XoTracker : ModuleRules
{
	public XoTracker(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		// XoTrackerLibrary (an external module) adds the include path, the library to link, the
		// delay-loaded DLL and the runtime dependencies for each platform.
		PublicDependencyModuleNames.AddRange(new string[]
		{
			"Core",
			"CoreUObject",
			"Engine",
			"DeveloperSettings",
			"XoTrackerLibrary",
		});

		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"Projects", // IPluginManager: where the plugin (and its staged library) lives
		});

		if (Target.Platform == UnrealTargetPlatform.Android)
		{
			PrivateDependencyModuleNames.Add("Launch"); // FAndroidApplication, FJavaWrapper (xo_android_init)
		}
	}
}
