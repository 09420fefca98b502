using UnityEditor;
using UnityEditor.Build;
using UnityEditor.Build.Reporting;

namespace Xo.Tracker.Editor
{
    /// <summary>
    /// Puts the iOS library that matches Player Settings &gt; iOS &gt; Target SDK into the Xcode
    /// project: <c>Plugins/iOS/libxo_tracker.a</c> (device, arm64) for the Device SDK,
    /// <c>Plugins/iOS/Simulator/libxo_tracker.a</c> (arm64 + x86_64) for the Simulator SDK. Both
    /// are enabled for iOS in their .meta files (a static library holds one SDK's code, and Unity
    /// would otherwise copy both into the project and fail the link). A build for an SDK whose
    /// library the package lacks fails at once with a message, not later in Xcode.
    /// </summary>
    [InitializeOnLoad]
    internal sealed class XoTrackerIosSdk : IPreprocessBuildWithReport
    {
        // The GUIDs in Tools~/plugin-meta/Plugins/iOS/…/libxo_tracker.a.meta: found wherever the
        // package is installed (Packages/, Library/PackageCache/ or copied into Assets/).
        internal const string DeviceLibraryGuid = "00bcf393ed1eb7f12e17be85a692bcd3";
        internal const string SimulatorLibraryGuid = "2115a929ca6382cb0c20847d33d887d8";

        static XoTrackerIosSdk()
        {
            Register();
        }

        public int callbackOrder
        {
            get { return 0; }
        }

        /// <summary>Whether a library built for one SDK belongs in a build for <paramref name="target"/>.</summary>
        internal static bool Include(bool simulatorLibrary, iOSSdkVersion target)
        {
            return simulatorLibrary == (target == iOSSdkVersion.SimulatorSDK);
        }

        /// <summary>
        /// Gives each of the package's iOS libraries its include-in-build rule (an importer's rule
        /// is not saved, and a re-import makes a new importer: so at every load and every build).
        /// Returns the importer of the library the current Target SDK needs, or null.
        /// </summary>
        internal static PluginImporter Register()
        {
            var device = Importer(DeviceLibraryGuid);
            var simulator = Importer(SimulatorLibraryGuid);
            if (device != null)
                device.SetIncludeInBuildDelegate(path => Include(false, PlayerSettings.iOS.sdkVersion));
            if (simulator != null)
                simulator.SetIncludeInBuildDelegate(path => Include(true, PlayerSettings.iOS.sdkVersion));
            return PlayerSettings.iOS.sdkVersion == iOSSdkVersion.SimulatorSDK ? simulator : device;
        }

        /// <summary>Before an iOS build: the rules, and the needed library, or a clear failure.</summary>
        public void OnPreprocessBuild(BuildReport report)
        {
            if (report.summary.platform != BuildTarget.iOS)
                return;
            if (Register() != null)
                return;
            var simulator = PlayerSettings.iOS.sdkVersion == iOSSdkVersion.SimulatorSDK;
            throw new BuildFailedException(string.Format(
                "Xo Tracker: this copy of com.xo.tracker has no iOS {0} library (Plugins/iOS/{1}libxo_tracker.a). " +
                "Install the release package (git URL #upm/v<version> or the .tgz), which carries the device and " +
                "simulator libraries, or build the library for {2} and place it there.",
                simulator ? "simulator" : "device", simulator ? "Simulator/" : "",
                simulator ? "aarch64-apple-ios-sim and x86_64-apple-ios (lipo)" : "aarch64-apple-ios"));
        }

        private static PluginImporter Importer(string guid)
        {
            var path = AssetDatabase.GUIDToAssetPath(guid);
            return string.IsNullOrEmpty(path) ? null : AssetImporter.GetAtPath(path) as PluginImporter;
        }
    }
}
