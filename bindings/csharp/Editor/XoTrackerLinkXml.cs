using System.IO;
using UnityEditor;
using UnityEditor.Build;
using UnityEditor.Build.Reporting;
using UnityEditor.UnityLinker;

namespace Xo.Tracker.Editor
{
    /// <summary>
    /// Hands the package's Runtime/link.xml to the Unity linker: link.xml files inside packages are
    /// not read by every Unity version on their own.
    /// </summary>
    internal sealed class XoTrackerLinkXml : IUnityLinkerProcessor
    {
        // The GUID in Runtime/link.xml.meta: found wherever the package is installed
        // (Packages/, Library/PackageCache/ or copied into Assets/).
        private const string LinkXmlGuid = "ce925a755838554bbb4029420b46945f";

        public int callbackOrder
        {
            get { return 0; }
        }

        public string GenerateAdditionalLinkXmlFile(BuildReport report, UnityLinkerBuildPipelineData data)
        {
            var assetPath = AssetDatabase.GUIDToAssetPath(LinkXmlGuid);
            if (string.IsNullOrEmpty(assetPath))
                return null;
            var fullPath = Path.GetFullPath(assetPath);
            return File.Exists(fullPath) ? fullPath : null;
        }

        // Part of the interface before Unity 2021.2; harmless extra methods after.
        public void OnBeforeRun(BuildReport report, UnityLinkerBuildPipelineData data)
        {
        }

        public void OnAfterRun(BuildReport report, UnityLinkerBuildPipelineData data)
        {
        }
    }
}
