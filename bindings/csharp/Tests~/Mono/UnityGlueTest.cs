using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Drives the Unity-only code (the pump MonoBehaviour and the lifecycle hooks) against the real
    /// native library, the way Unity would, with the binding compiled with UNITY_5_3_OR_NEWER and
    /// UNITY_EDITOR against stubbed UnityEngine/UnityEditor assemblies. Each scenario runs in its
    /// own AppDomain, and unloading it stands in for an Editor domain reload: the native library
    /// stays loaded across domains exactly as it does in the Editor.
    /// </summary>
    internal static class UnityGlueTest
    {
        public static void Run(string unityDir, int simPort)
        {
            if (!File.Exists(Path.Combine(unityDir, "Xo.Tracker.dll")))
            {
                T.Check(false, "the Unity-flavoured build exists in " + unityDir);
                return;
            }
            // Play session 1: frames, pause/resume, then each hook shuts the library down.
            RunInDomain(unityDir, "lifecycle", simPort);
            // A domain that dies with a live tracker and without its hooks (they crashed)...
            RunInDomain(unityDir, "die-with-live-tracker", simPort);
            // ...leaves nothing that can call into it: the next domain starts clean and tracks.
            RunInDomain(unityDir, "next-session", simPort);
            // Enter Play Mode without a domain reload: the hook resets every static field.
            RunInDomain(unityDir, "statics-reset", simPort);
            // Project Settings > Xo Tracker, Configure() without arguments, logs to the Console.
            RunInDomain(unityDir, "settings", simPort);
            // The sample's async void methods at play-mode exit and on destroy.
            RunInDomain(unityDir, "sample", simPort);
            // An iOS build takes the library of Player Settings' Target SDK, or fails with a message.
            RunInDomain(unityDir, "ios-sdk", simPort);
            // The same sources compiled for WebGL: the API is there, every call says unsupported.
            RunInDomain(Path.Combine(Path.GetDirectoryName(unityDir), "unity-webgl"), "webgl", simPort);
        }

        /// <summary>
        /// Under full AOT (XO_FULL_AOT=1), as under IL2CPP, there are no AppDomains: each scenario
        /// runs in its own process instead, and the two that need a domain unloaded under a live
        /// native library (die-with-live-tracker, next-session) are left to the JIT run.
        /// </summary>
        private static bool FullAot
        {
            get { return Environment.GetEnvironmentVariable("XO_FULL_AOT") == "1"; }
        }

        /// <summary>The child process of a scenario under full AOT: "--unity-scenario NAME PORT".</summary>
        public static int RunScenarioProcess(string[] args)
        {
            var result = new UnityGlueDriver().Run(args[1], int.Parse(args[2]));
            Console.WriteLine(result[0] + " passed, " + result[1] + " failed");
            return result[1] == 0 ? 0 : 1;
        }

        private static void RunInProcess(string dir, string scenario, int simPort)
        {
            var mono = Process.GetCurrentProcess().MainModule.FileName;
            var info = new ProcessStartInfo(mono, "--full-aot --debug \"" + Path.Combine(dir, "Xo.Tracker.Tests.exe") +
                                                  "\" --unity-scenario " + scenario + " " + simPort)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                WorkingDirectory = Environment.CurrentDirectory,
            };
            using (var p = Process.Start(info))
            {
                var output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                var lines = output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
                foreach (var line in lines.Where(l => l.StartsWith("FAIL", StringComparison.Ordinal)))
                    Console.Error.WriteLine(line);
                var last = lines.Count > 0 ? lines[lines.Count - 1].Split(' ') : new string[0];
                int passed = 0, failed = 0;
                var parsed = last.Length == 4 && last[1] == "passed," && int.TryParse(last[0], out passed) &&
                             int.TryParse(last[2], out failed);
                T.Passed += passed;
                T.Failed += failed;
                T.Check(parsed && p.ExitCode == (failed == 0 ? 0 : 1), scenario + ": the process ran and reported (exit " +
                                                                       p.ExitCode + "): " + (lines.Count > 0 ? lines[lines.Count - 1] : "no output"));
                T.Check(passed > 0, scenario + ": the scenario ran checks");
            }
        }

        private static void RunInDomain(string unityDir, string scenario, int simPort)
        {
            if (FullAot)
            {
                if (scenario != "die-with-live-tracker" && scenario != "next-session")
                    RunInProcess(unityDir, scenario, simPort);
                return;
            }
            var setup = new AppDomainSetup { ApplicationBase = unityDir };
            var domain = AppDomain.CreateDomain("unity-" + scenario, null, setup);
            try
            {
                var driver = (UnityGlueDriver)domain.CreateInstanceAndUnwrap(typeof(UnityGlueDriver).Assembly.FullName,
                    typeof(UnityGlueDriver).FullName);
                var result = driver.Run(scenario, simPort);
                T.Passed += result[0];
                T.Failed += result[1];
                T.Check(result[0] > 0, scenario + ": the scenario ran checks");
            }
            finally
            {
                AppDomain.Unload(domain);
            }
        }
    }

    /// <summary>Runs inside the Unity-flavoured AppDomain; returns {passed, failed}.</summary>
    public sealed partial class UnityGlueDriver : MarshalByRefObject
    {
        private Sim _sim;
        private Type _pumpType;

        public int[] Run(string scenario, int simPort)
        {
            T.Passed = 0;
            T.Failed = 0;
            try
            {
                _sim = new Sim(simPort);
                _pumpType = typeof(XoTracker).Assembly.GetType("Xo.Tracker.XoTrackerPump");
                T.Check(_pumpType != null, "the Unity build has XoTrackerPump");
                if (_pumpType == null)
                    return new[] { T.Passed, T.Failed };
                if (scenario == "statics-reset")
                {
                    StaticsReset(); // before any hook ran: the fields still hold their initial values
                    return new[] { T.Passed, T.Failed };
                }
                if (scenario == "ios-sdk")
                {
                    IosSdk(); // the Editor's build-time choice; no library calls
                    return new[] { T.Passed, T.Failed };
                }
                if (scenario == "webgl")
                {
                    WebGL(); // a player build: no editor hooks
                    return new[] { T.Passed, T.Failed };
                }
                // What Unity does when a domain loads and when play mode starts.
                Static(typeof(XoTracker), "InstallEditorHooks");
                Static(typeof(XoTracker), "OnSubsystemRegistration");
                switch (scenario)
                {
                    case "settings":
                        Settings();
                        break;
                    case "sample":
                        Sample();
                        break;
                    case "lifecycle":
                        Lifecycle();
                        break;
                    case "die-with-live-tracker":
                        XoTracker.Configure(Config());
                        _sim.AddOrder(801, "new");
                        var live = XoTracker.Track(801, "glue-token");
                        T.Check(FramesUntil(() => live.Status == OrderStatus.New, 5000), "live tracker running");
                        break; // the domain is unloaded without any hook
                    case "next-session":
                        XoTracker.Configure(Config());
                        _sim.AddOrder(802, "new", "done", 200);
                        var tracking = XoTracker.Track(802, "glue-token");
                        T.Check(FramesUntil(() => tracking.IsFinished, 5000), "new domain: tracking works");
                        T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done");
                        _sim.SetStatus(801, "done"); // the dead domain's order: nothing may arrive
                        Frames(300);
                        T.Equal(0, XoTracker.ActiveCount, "nothing of the dead domain reached this one");
                        Hook("SimulateQuit", "UnityEngine.Application");
                        break;
                }
            }
            catch (Exception e)
            {
                T.Check(false, scenario + ": " + e);
            }
            return new[] { T.Passed, T.Failed };
        }

        private void Lifecycle()
        {
            XoTracker.Configure(Config());
            var pump = Pump();
            T.Check(pump != null, "Configure created the pump");
            XoTracker.Configure(Config());
            T.Check(ReferenceEquals(pump, Pump()), "one pump only");

            // Frames deliver events on the main thread.
            _sim.AddOrder(810, "new", "done", 200);
            var tracking = XoTracker.Track(810, "glue-token");
            var mainThread = Thread.CurrentThread.ManagedThreadId;
            var otherThread = false;
            tracking.StatusChanged += s => otherThread |= Thread.CurrentThread.ManagedThreadId != mainThread;
            T.Check(FramesUntil(() => tracking.IsFinished, 5000), "Update pumps events until the outcome");
            T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done");
            T.Check(!otherThread, "events ran in Update, on the main thread");

            // OnApplicationPause(true): the library pauses; (false): it checks at once.
            _sim.AddOrder(811, "new");
            var paused = XoTracker.Track(811, "glue-token");
            T.Check(FramesUntil(() => paused.Transport == TransportState.SocketConnected, 5000), "socket connected");
            Message("OnApplicationFocus", false); // desktop: losing focus pauses nothing
            Message("OnApplicationPause", true);
            Frames(200);
            _sim.SetStatus(811, "done");
            Frames(400);
            T.Check(!paused.IsFinished, "paused: nothing learned");
            Message("OnApplicationPause", false);
            Message("OnApplicationFocus", true);
            T.Check(FramesUntil(() => paused.IsFinished, 3000), "resumed: the outcome arrives at once");

            // Each hook shuts the library down with live trackers, and tracking works again after.
            foreach (var hook in new[] { "beforeAssemblyReload", "ExitingPlayMode", "quitting" })
            {
                XoTracker.Configure(Config());
                _sim.AddOrder(812, "new");
                var live = XoTracker.Track(812, "glue-token");
                T.Check(FramesUntil(() => live.Status == OrderStatus.New, 5000), hook + ": tracker running");
                if (hook == "beforeAssemblyReload")
                    Hook("SimulateBeforeAssemblyReload", "UnityEditor.AssemblyReloadEvents");
                else if (hook == "ExitingPlayMode")
                {
                    var change = Type.GetType("UnityEditor.PlayModeStateChange, UnityEngine", true);
                    Type.GetType("UnityEditor.EditorApplication, UnityEngine", true)
                        .GetMethod("SimulatePlayModeStateChange")
                        .Invoke(null, new[] { Enum.Parse(change, "ExitingPlayMode") });
                }
                else
                    Hook("SimulateQuit", "UnityEngine.Application");
                T.Check(!XoTracker.IsConfigured, hook + ": library shut down");
                T.Equal(0, XoTracker.ActiveCount, hook + ": every GCHandle freed");
                T.Check(live.IsCancelled && live.Completion.IsCanceled, hook + ": the tracking ended as cancelled");
                _sim.SetStatus(812, "done");
                Frames(200);
                T.Check(!live.IsFinished, hook + ": no event afterwards");
            }
            XoTracker.Configure(Config());
            _sim.AddOrder(813, "done");
            var again = XoTracker.Track(813, "glue-token");
            T.Check(FramesUntil(() => again.IsFinished, 5000), "tracking works again after the hooks");
            Hook("SimulateBeforeAssemblyReload", "UnityEditor.AssemblyReloadEvents"); // leaves the domain clean
        }

        private XoConfig Config()
        {
            return new XoConfig
            {
                ProjectId = 1001,
                CentrifugoUrl = "ws://127.0.0.1:" + _sim.Port + "/connection/websocket",
                ApiBaseUrl = "http://127.0.0.1:" + _sim.Port + "/api",
                PollIntervalMs = 100,
                BackoffMinMs = 50,
                BackoffMaxMs = 200,
                AllowInsecureLoopback = true,
            };
        }

        private object Pump()
        {
            return _pumpType.GetField("s_instance", BindingFlags.NonPublic | BindingFlags.Static).GetValue(null);
        }

        /// <summary>Sends a MonoBehaviour message to the pump, as Unity does.</summary>
        private void Message(string name, bool value)
        {
            var pump = Pump();
            _pumpType.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Instance).Invoke(pump, new object[] { value });
        }

        private void Frames(int ms)
        {
            FramesUntil(() => false, ms);
        }

        /// <summary>Calls the pump's Update like the player loop, until condition holds or ms pass.</summary>
        private bool FramesUntil(Func<bool> condition, int ms)
        {
            var update = _pumpType.GetMethod("Update", BindingFlags.NonPublic | BindingFlags.Instance);
            var watch = Stopwatch.StartNew();
            while (true)
            {
                var pump = Pump();
                if (pump != null)
                    update.Invoke(pump, null);
                if (condition())
                    return true;
                if (watch.ElapsedMilliseconds > ms)
                    return false;
                Thread.Sleep(5);
            }
        }

        private static void Static(Type type, string method)
        {
            type.GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static).Invoke(null, null);
        }

        private static void Hook(string method, string type)
        {
            Type.GetType(type + ", UnityEngine", true).GetMethod(method).Invoke(null, null);
        }
    }
}
