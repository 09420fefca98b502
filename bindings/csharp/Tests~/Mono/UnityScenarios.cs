using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>Unity scenarios: the statics reset, the settings asset and page, the WebGL build.</summary>
    public sealed partial class UnityGlueDriver
    {
        private const BindingFlags AnyStatic = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly;

        // Targets for dirty delegate values (any static field of a delegate type gets one of these).
        private static void DirtyAction()
        {
        }

        private static void DirtyException(Exception e)
        {
        }

        private static void DirtyLog(LogLevel level, string line)
        {
        }

        private static void DirtyObject(object state)
        {
        }

        /// <summary>
        /// Every static field of the Unity build of the binding, set to a value other than its
        /// initial one, must be back to that value after the SubsystemRegistration hook (what
        /// Unity runs at the start of a play session with domain reload disabled). A readonly
        /// field must be immutable (object, string, delegate, Encoding, empty array) or a
        /// collection the reset empties. A new static field that the reset misses fails here.
        /// </summary>
        private void StaticsReset()
        {
            var assembly = typeof(XoTracker).Assembly;
            var types = assembly.GetTypes().Where(t => !t.IsDefined(typeof(CompilerGeneratedAttribute), false) &&
                                                       !t.IsGenericTypeDefinition && !t.IsEnum).ToList();
            var fields = new List<FieldInfo>();
            foreach (var type in types)
            {
                RuntimeHelpers.RunClassConstructor(type.TypeHandle);
                // Not constants, and not the compiler's caches of delegates to static methods and
                // lambdas (<>f__mg$cache*, <>f__am$cache*): they only ever hold the same delegate.
                // Auto-property backing fields (<Name>k__BackingField) are state and stay in.
                fields.AddRange(type.GetFields(AnyStatic).Where(f => !f.IsLiteral && !f.Name.StartsWith("<>", StringComparison.Ordinal)));
            }
            T.Check(fields.Count >= 12, "static fields found: " + fields.Count);
            T.Check(fields.Any(f => f.Name == "s_instance" && f.DeclaringType.Name == "XoTrackerPump"), "the pump's instance field is covered");
            var initial = fields.ToDictionary(f => f, f => f.GetValue(null));
            var mutable = new List<FieldInfo>();
            var collections = new List<FieldInfo>();
            foreach (var f in fields)
            {
                var name = f.DeclaringType.Name + "." + f.Name;
                if (f.IsInitOnly)
                {
                    var value = initial[f];
                    if (value is ICollection && !(value is Array))
                    {
                        T.Check(Fill(value), name + ": readonly collection can be filled by the test");
                        collections.Add(f);
                    }
                    else
                        T.Check(IsImmutable(f.FieldType, value), name + ": readonly static of an immutable type (" + f.FieldType.Name +
                                                                  "); otherwise reset it in ResetStatics and teach this test");
                    continue;
                }
                object dirty;
                T.Check(TryDirty(f.FieldType, initial[f], out dirty), name + ": the test can give it another value (" + f.FieldType.Name + ")");
                if (dirty == null)
                    continue;
                f.SetValue(null, dirty);
                T.Check(!Equals(f.GetValue(null), initial[f]), name + ": dirtied");
                mutable.Add(f);
            }

            Static(typeof(XoTracker), "OnSubsystemRegistration"); // what Unity calls each play session

            foreach (var f in mutable)
                T.Check(Equals(f.GetValue(null), initial[f]), f.DeclaringType.Name + "." + f.Name + " is reset (is " + f.GetValue(null) +
                                                              ", initially " + initial[f] + ")");
            foreach (var f in collections)
                T.Equal(0, ((ICollection)f.GetValue(null)).Count, f.DeclaringType.Name + "." + f.Name + " is emptied");
            T.Check(mutable.Count >= 8, "mutable static fields dirtied and reset: " + mutable.Count);
        }

        private static bool IsImmutable(Type type, object value)
        {
            return type == typeof(object) || type == typeof(string) || typeof(Delegate).IsAssignableFrom(type) ||
                   typeof(System.Text.Encoding).IsAssignableFrom(type) || value is Array && ((Array)value).Length == 0;
        }

        private static bool Fill(object collection)
        {
            var type = collection.GetType();
            var args = type.IsGenericType ? type.GetGenericArguments() : new Type[0];
            var add = type.GetMethod("Add", args) ?? type.GetMethod("Enqueue", args);
            if (add == null)
                return false;
            add.Invoke(collection, args.Select(a => a.IsValueType ? Activator.CreateInstance(a) : null).ToArray());
            return ((ICollection)collection).Count > 0;
        }

        private static bool TryDirty(Type type, object initial, out object dirty)
        {
            dirty = null;
            if (type == typeof(bool))
                dirty = !(bool)initial;
            else if (type.IsEnum)
            {
                var values = Enum.GetValues(type).Cast<object>().Where(v => !Equals(v, initial)).ToList();
                dirty = values.Count > 0 ? values[0] : null;
            }
            else if (type == typeof(int) || type == typeof(long) || type == typeof(uint) || type == typeof(float))
                dirty = Convert.ChangeType(Convert.ToInt64(Convert.ChangeType(initial, typeof(long))) + 7, type);
            else if (typeof(Delegate).IsAssignableFrom(type))
            {
                foreach (var name in new[] { "DirtyAction", "DirtyException", "DirtyLog", "DirtyObject" })
                {
                    var target = typeof(UnityGlueDriver).GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic);
                    dirty = Delegate.CreateDelegate(type, target, false);
                    if (dirty != null)
                        break;
                }
            }
            else if (type == typeof(string))
                dirty = (string)initial == "dirty" ? "dirtier" : "dirty";
            else if (!type.IsAbstract && !type.IsValueType)
                dirty = Activator.CreateInstance(type, true);
            return dirty != null;
        }

        private void IosSdk()
        {
            var editor = Assembly.LoadFrom(Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "Xo.Tracker.Editor.dll"));
            var selector = editor.GetType("Xo.Tracker.Editor.XoTrackerIosSdk", true);
            T.Check(selector.IsDefined(typeof(UnityEditor.InitializeOnLoadAttribute), false),
                "[InitializeOnLoad] registers the rules whenever the Editor loads scripts");
            var guid = new Func<string, string>(name => (string)selector.GetField(name, BindingFlags.Static | BindingFlags.NonPublic).GetValue(null));
            // Installed as a package: both libraries, found by the GUIDs of their .meta files.
            const string devicePath = "Packages/com.xo.tracker/Plugins/iOS/libxo_tracker.a";
            const string simulatorPath = "Packages/com.xo.tracker/Plugins/iOS/Simulator/libxo_tracker.a";
            var device = new UnityEditor.PluginImporter { assetPath = devicePath };
            var simulator = new UnityEditor.PluginImporter { assetPath = simulatorPath };
            UnityEditor.AssetDatabase.SimulatedGuids[guid("DeviceLibraryGuid")] = devicePath;
            UnityEditor.AssetDatabase.SimulatedGuids[guid("SimulatorLibraryGuid")] = simulatorPath;
            UnityEditor.AssetImporter.SimulatedImporters[devicePath] = device;
            UnityEditor.AssetImporter.SimulatedImporters[simulatorPath] = simulator;
            var processor = (UnityEditor.Build.IPreprocessBuildWithReport)Activator.CreateInstance(selector, true);
            Action<UnityEditor.BuildTarget> build = target => processor.OnPreprocessBuild(
                new UnityEditor.Build.Reporting.BuildReport { summary = new UnityEditor.Build.Reporting.BuildSummary { platform = target } });

            UnityEditor.PlayerSettings.iOS.sdkVersion = UnityEditor.iOSSdkVersion.DeviceSDK;
            build(UnityEditor.BuildTarget.iOS);
            T.Check(device.ShouldIncludeInBuild() && !simulator.ShouldIncludeInBuild(), "Device SDK: only the device library");
            UnityEditor.PlayerSettings.iOS.sdkVersion = UnityEditor.iOSSdkVersion.SimulatorSDK;
            T.Check(!device.ShouldIncludeInBuild() && simulator.ShouldIncludeInBuild(),
                "Simulator SDK: only the simulator library (the rule reads the setting at build time)");

            // A re-import makes new importers: the next build gives them the rule again.
            var reimported = new UnityEditor.PluginImporter { assetPath = devicePath };
            UnityEditor.AssetImporter.SimulatedImporters[devicePath] = reimported;
            build(UnityEditor.BuildTarget.iOS);
            T.Check(!reimported.ShouldIncludeInBuild(), "a re-imported library gets the rule at the next build");

            // A package without the simulator library (a local build): the build stops with a message.
            UnityEditor.AssetImporter.SimulatedImporters.Remove(simulatorPath);
            var failure = T.Throws<UnityEditor.Build.BuildFailedException>(() => build(UnityEditor.BuildTarget.iOS),
                "a simulator build without the simulator library");
            if (failure != null)
                T.Check(failure.Message.Contains("Plugins/iOS/Simulator/libxo_tracker.a") && failure.Message.Contains("release package"),
                    "says which library is missing and where to get it: " + failure.Message);
            Func<UnityEditor.BuildTarget, Exception> failureOf = target =>
            {
                try
                {
                    build(target);
                    return null;
                }
                catch (Exception e)
                {
                    return e;
                }
            };
            UnityEditor.PlayerSettings.iOS.sdkVersion = UnityEditor.iOSSdkVersion.DeviceSDK;
            T.Check(failureOf(UnityEditor.BuildTarget.iOS) == null, "a device build with the device library goes on");
            UnityEditor.PlayerSettings.iOS.sdkVersion = UnityEditor.iOSSdkVersion.SimulatorSDK;
            UnityEditor.AssetImporter.SimulatedImporters.Clear();
            T.Check(failureOf(UnityEditor.BuildTarget.Android) == null && failureOf(UnityEditor.BuildTarget.StandaloneLinux64) == null,
                "a build for another platform never fails on missing iOS libraries");
            UnityEditor.PlayerSettings.iOS.sdkVersion = UnityEditor.iOSSdkVersion.DeviceSDK;
        }

        private void Settings()
        {
            UnityEngine.Resources.SimulatedAssets.Clear();
            var e = T.Throws<XoException>(() => XoTracker.Configure(), "Configure() without a settings asset");
            if (e != null)
                T.Check(e.Result == XoResult.NotConfigured && e.Message.Contains("Project Settings > Xo Tracker"), "says where: " + e.Message);

            // The Project Settings page creates the asset and draws its fields.
            var editor = Assembly.LoadFrom(Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "Xo.Tracker.Editor.dll"));
            var providerType = editor.GetType("Xo.Tracker.Editor.XoTrackerSettingsProvider", true);
            var provider = (UnityEditor.SettingsProvider)providerType.GetMethod("Create", BindingFlags.Static | BindingFlags.Public)
                .Invoke(null, null);
            T.Check(providerType.GetMethod("Create", BindingFlags.Static | BindingFlags.Public)
                .IsDefined(typeof(UnityEditor.SettingsProviderAttribute), false), "[SettingsProvider] on Create");
            T.Equal("Project/Xo Tracker", provider.settingsPath, "settings path");
            T.Equal(UnityEditor.SettingsScope.Project, provider.scope, "project scope");
            provider.OnGUI("");
            var assetPath = "Assets/Resources/XoTrackerSettings.asset";
            UnityEngine.Object created;
            T.Check(UnityEditor.AssetDatabase.SimulatedAssets.TryGetValue(assetPath, out created) && created is XoTrackerSettings,
                "the page created " + assetPath);
            T.Check(UnityEditor.AssetDatabase.SimulatedFolders.Contains("Assets/Resources"), "in Assets/Resources");
            var drawn = UnityEditor.EditorGUILayout.SimulatedDrawn;
            T.Check(drawn.Contains("projectId") && drawn.Contains("transport") && drawn.Contains("logLevel"),
                "the page draws project id, transport, log level: " + string.Join(", ", drawn));
            T.Check(drawn.Any(d => d.StartsWith("help: ", StringComparison.Ordinal)), "and asks for the project id while it is 0");

            // Configure() reads what the page saved (a player finds it under Resources/).
            var settings = (XoTrackerSettings)created;
            UnityEngine.Resources.SimulatedAssets["XoTrackerSettings"] = settings;
            e = T.Throws<XoException>(() => XoTracker.Configure(), "Configure() with project id 0");
            if (e != null)
                T.Check(e.Message.Contains("project id"), "says what is missing: " + e.Message);
            settings.ProjectId = 1001;
            settings.Transport = Transport.PollingOnly;
            settings.LogLevel = LogLevel.Error;
            T.Equal(1001L, settings.ToConfig().ProjectId, "ToConfig: project id");
            T.Equal(Transport.PollingOnly, settings.ToConfig().Transport, "ToConfig: transport");
            XoTracker.Configure();
            T.Check(XoTracker.IsConfigured, "Configure() with no arguments configured the library");
            T.Equal(LogLevel.Error, XoTracker.ConsoleLogLevel, "with the settings' log level");
            T.Check(Pump() != null, "and created the pump");
            XoTracker.Shutdown();
            XoTracker.ConsoleLogLevel = XoTracker.DefaultLogLevel;

            // Without a handler, library warnings reach Unity's Console as warnings.
            XoTracker.Configure(Config());
            _sim.AddOrder(820, "new");
            var tracking = XoTracker.Track(820, "glue-token");
            T.Check(FramesUntil(() => tracking.Transport == TransportState.SocketConnected, 5000), "socket connected");
            _sim.Post("/_sim/fault", "{\"fault\":\"centrifugo_close_all\",\"code\":3000,\"reason\":\"test\"}");
            Func<bool> warned = () =>
            {
                lock (UnityEngine.Debug.SimulatedLog)
                    return UnityEngine.Debug.SimulatedLog.Any(l => l.StartsWith("Warning: [xo-tracker] socket lost", StringComparison.Ordinal));
            };
            T.Check(FramesUntil(warned, 5000), "Debug.LogWarning got the library's warning");
            lock (UnityEngine.Debug.SimulatedLog)
                T.Check(!UnityEngine.Debug.SimulatedLog.Any(l => l.StartsWith("Log: [xo-tracker]", StringComparison.Ordinal)), "no Info lines by default");
            Hook("SimulateQuit", "UnityEngine.Application");
            T.Check(!XoTracker.IsConfigured, "shut down");
        }

        private void WebGL()
        {
            T.Check(!XoTracker.IsSupported, "IsSupported is false on WebGL");
            var pinvokes = typeof(XoTracker).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(AnyStatic | BindingFlags.Instance))
                .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0).Select(m => m.Name).ToList();
            T.Check(pinvokes.Count == 0, "the WebGL build has no DllImport at all: " + string.Join(", ", pinvokes));
            Static(typeof(XoTracker), "OnSubsystemRegistration"); // the player's hooks run and do nothing
            Unsupported(() => XoTracker.Configure(Config()), "Configure");
            UnityEngine.Resources.SimulatedAssets["XoTrackerSettings"] = UnityEngine.ScriptableObject.CreateInstance<XoTrackerSettings>();
            ((XoTrackerSettings)UnityEngine.Resources.SimulatedAssets["XoTrackerSettings"]).ProjectId = 1001;
            Unsupported(() => XoTracker.Configure(), "Configure() from settings");
            Unsupported(() => XoTracker.Track(1, "token"), "Track");
            Unsupported(() => XoTracker.Track(1, "token", new CancellationTokenSource().Token), "Track with a token");
            Unsupported(() => XoTracker.CheckOrderAsync(1, "token"), "CheckOrderAsync");
            Unsupported(() => XoTracker.UpdateToken(1, "token"), "UpdateToken");
            Unsupported(() => { var v = XoTracker.Version; }, "Version");
            T.Equal(0, XoTracker.Dispatch(), "Dispatch runs nothing");
            XoTracker.SetAppActive(false);
            XoTracker.SetAppActive(true);
            XoTracker.NetworkChanged();
            XoTracker.SetLogHandler((l, m) => { });
            XoTracker.Shutdown();
            T.Check(!XoTracker.IsConfigured && XoTracker.ActiveCount == 0, "lifecycle calls do nothing and throw nothing");
            Hook("SimulateQuit", "UnityEngine.Application");
        }

        /// <summary>A main-thread SynchronizationContext like Unity's; keeps what its callbacks throw.</summary>
        private sealed class RecordingContext : SynchronizationContext
        {
            private readonly System.Collections.Concurrent.ConcurrentQueue<KeyValuePair<SendOrPostCallback, object>> _queue =
                new System.Collections.Concurrent.ConcurrentQueue<KeyValuePair<SendOrPostCallback, object>>();

            public readonly List<Exception> Thrown = new List<Exception>();

            public override void Post(SendOrPostCallback d, object state)
            {
                _queue.Enqueue(new KeyValuePair<SendOrPostCallback, object>(d, state));
            }

            public void RunPending()
            {
                KeyValuePair<SendOrPostCallback, object> item;
                while (_queue.TryDequeue(out item))
                {
                    try
                    {
                        item.Key(item.Value);
                    }
                    catch (Exception e)
                    {
                        Thrown.Add(e); // what escaped an async void: Unity would log it as unhandled
                    }
                }
            }
        }

        /// <summary>
        /// The sample's async void methods at play-mode exit and on destroy: the shutdown ends their
        /// check and tracking as cancelled, and nothing may escape to the main-thread context.
        /// </summary>
        private void Sample()
        {
            var sampleAssembly = Assembly.LoadFrom(Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "PurchaseFlowSample.dll"));
            var sampleType = sampleAssembly.GetType("Xo.Tracker.Samples.PurchaseFlowSample", true);
            var context = new RecordingContext();
            var previous = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                foreach (var ending in new[] { "ExitingPlayMode", "OnDestroy" })
                {
                    XoTracker.Configure(Config());
                    var sample = Activator.CreateInstance(sampleType, true);
                    sampleType.GetField("userToken", BindingFlags.Instance | BindingFlags.NonPublic).SetValue(sample, "glue-token");
                    _sim.AddOrder(830, "new");
                    _sim.Fault("{\"fault\":\"http_delay\",\"order_id\":830,\"n\":4,\"delay_ms\":3000}");
                    sampleType.GetMethod("RecheckOrder").Invoke(sample, new object[] { 830L });
                    sampleType.GetMethod("StartPurchaseAsync").Invoke(sample, new object[] { 830L });
                    T.Equal(2, XoTracker.ActiveCount, ending + ": the sample's check and tracking are live");
                    Frames(100);
                    context.RunPending();
                    if (ending == "ExitingPlayMode")
                    {
                        var change = Type.GetType("UnityEditor.PlayModeStateChange, UnityEngine", true);
                        Type.GetType("UnityEditor.EditorApplication, UnityEngine", true).GetMethod("SimulatePlayModeStateChange")
                            .Invoke(null, new[] { Enum.Parse(change, "ExitingPlayMode") });
                    }
                    else
                        sampleType.GetMethod("OnDestroy", BindingFlags.Instance | BindingFlags.NonPublic).Invoke(sample, null);
                    T.Equal(0, XoTracker.ActiveCount, ending + ": both ended");
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    while (watch.ElapsedMilliseconds < 300)
                    {
                        context.RunPending();
                        Thread.Sleep(5);
                    }
                    T.Check(context.Thrown.Count == 0, ending + ": nothing escaped the sample's async void methods: " +
                                                       string.Join(" | ", context.Thrown.Select(e => e.GetType().Name + ": " + e.Message)));
                    context.Thrown.Clear();
                    XoTracker.Shutdown();
                }
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }

        private static void Unsupported(Action call, string what)
        {
            var e = T.Throws<PlatformNotSupportedException>(call, what + " on WebGL");
            if (e != null)
                T.Check(e.Message.Contains("not supported on WebGL"), what + ": clear message: " + e.Message);
        }
    }
}
