using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Checks the Unity package layout: package.json, assembly definitions, a .meta with a unique
    /// GUID for every asset and folder (Unity ignores files without one in immutable packages) and
    /// no .meta without its asset, and a PluginImporter .meta (kept in Tools~/plugin-meta/, copied
    /// next to the binary by scripts/dist.sh) with the right platform for every native library.
    /// </summary>
    internal static class PackageCheck
    {
        /// <summary>Native library path -> platform entries enabled, and settings expected in the .meta.</summary>
        internal static readonly Dictionary<string, string[]> ExpectedBinaries = new Dictionary<string, string[]>
        {
            { "Plugins/Windows/x86_64/xo_tracker.dll", new[] { "Editor: Editor", "Standalone: Win64", "OS: Windows", "CPU: x86_64" } },
            { "Plugins/macOS/libxo_tracker.dylib", new[] { "Editor: Editor", "Standalone: OSXUniversal", "OS: OSX" } },
            { "Plugins/Linux/x86_64/libxo_tracker.so", new[] { "Editor: Editor", "Standalone: Linux64", "OS: Linux", "CPU: x86_64" } },
            { "Plugins/Android/arm64-v8a/libxo_tracker.so", new[] { "Android: Android", "CPU: ARM64" } },
            { "Plugins/Android/armeabi-v7a/libxo_tracker.so", new[] { "Android: Android", "CPU: ARMv7" } },
            { "Plugins/iOS/libxo_tracker.a", new[] { "iPhone: iOS" } },
            { "Plugins/iOS/Simulator/libxo_tracker.a", new[] { "iPhone: iOS" } },
        };

        public static string PackageVersion { get; private set; }

        public static void Run(string root)
        {
            root = Path.GetFullPath(root);
            CheckPackageJson(root);
            CheckAssemblyDefinitions(root);
            var guids = CheckMetaFiles(root, root);
            T.Check(!Directory.Exists(Path.Combine(root, "Plugins")), "no Plugins/ in the source tree (dist.sh adds it)");
            CheckPlugins(root);
            CheckMetaFiles(Path.Combine(root, "Tools~/plugin-meta"), root, guids);
            var license = Path.Combine(root, "LICENSE.md");
            var repoLicense = Path.GetFullPath(Path.Combine(root, "../../LICENSE"));
            T.Check(File.Exists(license) && File.Exists(repoLicense) && File.ReadAllText(license) == File.ReadAllText(repoLicense),
                "LICENSE.md is the repository's LICENSE");

            var linkGuid = Guid(File.ReadAllText(Path.Combine(root, "Runtime/link.xml.meta")));
            var processor = File.ReadAllText(Path.Combine(root, "Editor/XoTrackerLinkXml.cs"));
            T.Check(processor.Contains("\"" + linkGuid + "\""), "the link.xml processor names link.xml's GUID " + linkGuid);
            var sdkSelector = File.ReadAllText(Path.Combine(root, "Editor/XoTrackerIosSdk.cs"));
            foreach (var library in new[] { "Plugins/iOS/libxo_tracker.a", "Plugins/iOS/Simulator/libxo_tracker.a" })
            {
                var meta = Path.Combine(root, "Tools~/plugin-meta", library + ".meta");
                var guid = File.Exists(meta) ? Guid(File.ReadAllText(meta)) : null;
                T.Check(guid != null && sdkSelector.Contains("\"" + guid + "\""), "the iOS SDK selector names the GUID of " + library);
            }
            var linkXml = File.ReadAllText(Path.Combine(root, "Runtime/link.xml"));
            T.Check(linkXml.Contains("<assembly fullname=\"Xo.Tracker\" preserve=\"all\""), "link.xml preserves Xo.Tracker");

            var readme = File.ReadAllText(Path.Combine(root, "README.md"));
            foreach (var binary in ExpectedBinaries.Keys)
                T.Check(readme.Contains(binary), "README documents " + binary);
            T.Check(File.Exists(Path.Combine(root, "CHANGELOG.md")), "CHANGELOG.md");
        }

        private static void CheckPackageJson(string root)
        {
            var json = (Dictionary<string, object>)Json.Parse(File.ReadAllText(Path.Combine(root, "package.json")));
            T.Equal("com.xo.tracker", Json.AsString(Json.Get(json, "name")), "package name");
            PackageVersion = Json.AsString(Json.Get(json, "version"));
            T.Check(PackageVersion != null && Regex.IsMatch(PackageVersion, @"^\d+\.\d+\.\d+(-[\w.]+)?$"), "semver version");
            T.Check(Regex.IsMatch(Json.AsString(Json.Get(json, "unity")) ?? "", @"^\d{4}\.\d$"), "unity version field");
            T.Check(Json.AsString(Json.Get(json, "displayName")) != null, "displayName");
            foreach (var field in new[] { "documentationUrl", "changelogUrl", "licensesUrl" })
                T.Check(Regex.IsMatch(Json.AsString(Json.Get(json, field)) ?? "", @"^https://\S+$"), "package.json " + field + " is an https URL");
            var samples = Json.Get(json, "samples") as List<object>;
            T.Check(samples != null && samples.Count > 0, "samples declared");
            foreach (var sample in samples ?? new List<object>())
            {
                var path = Json.AsString(Json.Get(sample as Dictionary<string, object>, "path")) ?? "";
                T.Check(path.StartsWith("Samples~/", StringComparison.Ordinal) && Directory.Exists(Path.Combine(root, path)),
                    "sample folder " + path);
            }
        }

        private static void CheckAssemblyDefinitions(string root)
        {
            var runtime = (Dictionary<string, object>)Json.Parse(File.ReadAllText(Path.Combine(root, "Runtime/Xo.Tracker.asmdef")));
            T.Equal("Xo.Tracker", Json.AsString(Json.Get(runtime, "name")), "runtime assembly name");
            T.Equal(typeof(XoTracker).Assembly.GetName().Name, Json.AsString(Json.Get(runtime, "name")),
                "the tests build the assembly Unity builds");
            var excluded = (Json.Get(runtime, "excludePlatforms") as List<object> ?? new List<object>()).Select(Json.AsString).ToList();
            T.Check(!excluded.Contains("WebGL"), "WebGL not excluded (the API must compile there; calls say unsupported)");
            var editor = (Dictionary<string, object>)Json.Parse(File.ReadAllText(Path.Combine(root, "Editor/Xo.Tracker.Editor.asmdef")));
            var include = (Json.Get(editor, "includePlatforms") as List<object> ?? new List<object>()).Select(Json.AsString).ToList();
            T.Check(include.Count == 1 && include[0] == "Editor", "editor assembly is Editor-only");
            var refs = (Json.Get(editor, "references") as List<object> ?? new List<object>()).Select(Json.AsString).ToList();
            T.Check(refs.Contains("Xo.Tracker"), "editor assembly references the runtime");
        }

        private static Dictionary<string, string> CheckMetaFiles(string root, string packageRoot,
            Dictionary<string, string> guids = null)
        {
            var templates = guids != null; // Tools~/plugin-meta: metas for binaries dist.sh places
            guids = guids ?? new Dictionary<string, string>();
            var assets = new List<string>();
            Walk(root, root, assets);
            T.Check(assets.Count > (templates ? 15 : 10), "assets found: " + assets.Count);
            foreach (var asset in assets)
            {
                var full = Path.Combine(root, asset);
                if (asset.EndsWith(".meta", StringComparison.Ordinal))
                {
                    var target = asset.Substring(0, asset.Length - 5);
                    var exists = File.Exists(Path.Combine(root, target)) || Directory.Exists(Path.Combine(root, target));
                    T.Check(exists || templates && ExpectedBinaries.ContainsKey(target), asset + " belongs to an asset" +
                                                                                        (templates ? " or an expected binary" : ""));
                    var text = File.ReadAllText(full);
                    T.Check(text.StartsWith("fileFormatVersion: 2\n", StringComparison.Ordinal), asset + ": fileFormatVersion 2");
                    var guid = Guid(text);
                    T.Check(guid != null, asset + ": a 32-hex guid");
                    if (guid != null)
                    {
                        string other;
                        T.Check(!guids.TryGetValue(guid, out other), asset + ": guid unique (also in " + other + ")");
                        guids[guid] = asset;
                    }
                    if (Directory.Exists(Path.Combine(root, target)))
                        T.Check(text.Contains("folderAsset: yes"), asset + ": folder meta");
                }
                else
                {
                    T.Check(File.Exists(full + ".meta"), asset + " has a .meta");
                }
            }
            return guids;
        }

        private static void CheckPlugins(string root)
        {
            foreach (var binary in ExpectedBinaries)
            {
                var path = Path.Combine(root, "Tools~/plugin-meta", binary.Key + ".meta");
                for (var dir = Path.GetDirectoryName(binary.Key); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
                    T.Check(File.Exists(Path.Combine(root, "Tools~/plugin-meta", dir + ".meta")), binary.Key + ": folder meta for " + dir);
                if (!File.Exists(path))
                {
                    T.Check(false, binary.Key + ".meta exists");
                    continue;
                }
                var text = File.ReadAllText(path);
                T.Check(text.Contains("\nPluginImporter:\n"), binary.Key + ": PluginImporter");
                var enabled = Regex.Matches(text, @"- first:\n\s+(.*?)\n\s+second:\n\s+enabled: 1").Cast<Match>()
                    .Select(m => m.Groups[1].Value.Trim()).ToList();
                var expectedPlatforms = binary.Value.Where(v => v.Contains(": ") && !v.StartsWith("OS:") && !v.StartsWith("CPU:")).ToList();
                T.Check(enabled.Count == expectedPlatforms.Count && expectedPlatforms.All(enabled.Contains),
                    binary.Key + ": enabled for exactly " + string.Join(", ", expectedPlatforms) + " (is: " + string.Join(", ", enabled) + ")");
                foreach (var setting in binary.Value.Where(v => v.StartsWith("OS:") || v.StartsWith("CPU:")))
                    T.Check(text.Contains(setting), binary.Key + ": " + setting);
            }
        }

        /// <summary>Files and folders Unity imports: not hidden, not in a folder ending with ~.</summary>
        private static void Walk(string root, string dir, List<string> assets)
        {
            foreach (var entry in Directory.GetFileSystemEntries(dir).OrderBy(e => e, StringComparer.Ordinal))
            {
                var name = Path.GetFileName(entry);
                if (name.StartsWith(".", StringComparison.Ordinal) || name.EndsWith("~", StringComparison.Ordinal))
                    continue;
                var relative = entry.Substring(root.Length + 1).Replace('\\', '/');
                if (dir == root && name == "test.sh")
                {
                    assets.Add(relative);
                    continue;
                }
                assets.Add(relative);
                if (Directory.Exists(entry))
                    Walk(root, entry, assets);
            }
        }

        private static string Guid(string meta)
        {
            var m = Regex.Match(meta, @"^guid: ([0-9a-f]{32})\s*$", RegexOptions.Multiline);
            return m.Success ? m.Groups[1].Value : null;
        }
    }
}
