using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Runs the C# binding against the real native library and the xo-sim simulator.
    /// Usage: Xo.Tracker.Tests.exe &lt;xo-sim&gt; &lt;xo_tracker.h&gt; &lt;package dir&gt; &lt;work dir&gt;
    /// Prints "declaration checks: N passed, N failed", then "N passed, N failed" counting tests
    /// (not checks) last; exits 1 on any failure of either.
    /// </summary>
    internal static class TestMain
    {
        private const string Token = "csharp-test-secret-token";
        private static Sim s_sim;
        private static readonly ConcurrentQueue<Exception> s_handlerExceptions = new ConcurrentQueue<Exception>();

        private static int Main(string[] args)
        {
            if (args.Length == 3 && args[0] == "--unity-scenario")
                return UnityGlueTest.RunScenarioProcess(args);
            if (args.Length >= 1 && args[0] == "--bench")
                return Bench.Run(args);
            if (args.Length < 4)
            {
                Console.Error.WriteLine("usage: Xo.Tracker.Tests.exe <xo-sim> <xo_tracker.h> <package dir> <work dir>");
                return 2;
            }
            var total = Stopwatch.StartNew();
            XoTracker.HandlerException += e => s_handlerExceptions.Enqueue(e);

            T.RunDeclarations("header and P/Invoke declarations match", () => HeaderCheck.Run(args[1], args[3]));
            T.RunDeclarations("package layout and .meta files", () => PackageCheck.Run(args[2]));
            T.Run("typed contents (xo_contents) marshalling", BindingTests.TestContentsMarshalling);
            T.Run("version", TestVersion);
            T.RunDeclarations("iOS build imports from __Internal", () => TestIosLibraryName(Path.Combine(args[3], "unity-ios")));
            using (s_sim = new Sim(args[0]))
            {
                T.Run("bad arguments give exceptions with the library's message", TestBadArguments);
                T.Run("success over the socket", TestSuccessOverSocket);
                T.Run("fallback to polling", TestFallbackToPolling);
                T.Run("await with a main-thread SynchronizationContext", TestAwaitOnContext);
                T.Run("cancel: no callback afterwards, handle freed", TestCancel);
                T.Run("cancel from inside a handler", TestCancelInsideHandler);
                T.Run("final event exactly once; late subscribers", TestFinalExactlyOnce);
                T.Run("handler exceptions stay in C#", TestHandlerExceptions);
                T.Run("queued mode delivers on the pumping thread", TestQueuedOnPumpingThread);
                T.Run("check order", TestCheckOrder);
                T.Run("token expiry and UpdateToken", TestTokenExpiry);
                T.Run("app pause/resume and network change", TestAppActive);
                T.Run("log handler", TestLogHandler);
                T.Run("shutdown with live trackers, then configure and track again", TestShutdownAndRestart);
                T.Run("Track with a CancellationToken", () => BindingTests.TestTrackCancellationToken(s_sim, SimConfig, Token));
                T.Run("library warnings go to the Console without a handler", () => BindingTests.TestDefaultLog(s_sim, SimConfig, Token));
                T.Run("app state survives Shutdown; Configure applies it", () => BindingTests.TestAppActiveAcrossShutdown(s_sim, SimConfig, Token));
                T.Run("an idle Dispatch allocates no managed memory", () => BindingTests.TestIdleDispatchAllocatesNothing(s_sim, SimConfig, Token));
                T.Run("1000 tracked orders, no leaked GCHandles", TestThousandOrders);
                T.Run("journal: ResumePending redelivers until Acknowledge, then never", TestJournalResume);
                T.Run("Unity glue: pump, pause, hooks, domain reloads (stubbed Unity)",
                    () => UnityGlueTest.Run(Path.Combine(args[3], "unity"), s_sim.Port));
            }
            T.Run("chaos: 24 orders per seed against xo-sim --chaos (seeds 21-23)", () => ChaosTest.Run(args[0]));
            T.Run("Unity defaults the journal to a folder under Application.persistentDataPath", () =>
            {
                // The Unity glue configured without JournalDir: Unity's default is under persistentDataPath
                // (the stub's is a per-process temp folder; under full AOT each Unity scenario runs in a
                // process of its own, so look at every such folder).
                var unityData = Directory.GetDirectories(Path.GetTempPath(), "xo-unity-stub-data-*");
                T.Check(unityData.Any(d => Directory.Exists(Path.Combine(d, "xo-tracker-journal"))),
                    "Unity defaults the journal to a folder under Application.persistentDataPath");
                foreach (var d in unityData)
                    Directory.Delete(d, true);
            });
            T.Run("no tracker and no GCHandle left at the end", () =>
            {
                T.Check(XoTracker.ActiveCount == 0, "no tracker left at the end");
                T.Equal(XoTracker.HandlesAllocated, XoTracker.HandlesFreed, "every GCHandle allocated was freed");
            });
            Console.WriteLine("C# suite: " + total.ElapsedMilliseconds + " ms");
            // Declaration checks compare declarations, not behaviour: their own line, not in the test count.
            Console.WriteLine("declaration checks: " + T.DeclarationsPassed + " passed, " + T.DeclarationsFailed + " failed");
            Console.WriteLine(T.TestsPassed + " passed, " + T.TestsFailed + " failed");
            return T.TestsFailed == 0 && T.DeclarationsFailed == 0 ? 0 : 1;
        }

        private static XoConfig SimConfig()
        {
            return new XoConfig
            {
                ProjectId = 1001,
                CentrifugoUrl = s_sim.CentrifugoUrl,
                LegacySocketUrl = s_sim.LegacySocketUrl,
                ApiBaseUrl = s_sim.ApiBaseUrl,
                PollIntervalMs = 100, // real time here: keep the test fast
                BackoffMinMs = 50,
                BackoffMaxMs = 200,
                AllowInsecureLoopback = true,
            };
        }

        /// <summary>Everything a tracking reported, in order.</summary>
        private sealed class Recorder
        {
            public readonly List<string> Events = new List<string>();
            public readonly List<OrderStatus> Statuses = new List<OrderStatus>();
            public readonly List<TransportState> Transports = new List<TransportState>();
            public readonly List<OrderOutcome> Finals = new List<OrderOutcome>();
            public readonly HashSet<int> Threads = new HashSet<int>();
            public int TokenExpired;

            public Recorder(OrderTracking tracking)
            {
                tracking.StatusChanged += s => Add("status " + s, () => Statuses.Add(s));
                tracking.TransportChanged += t => Add("transport " + t, () => Transports.Add(t.State));
                tracking.TokenExpired += () => Add("token expired", () => TokenExpired++);
                tracking.Finished += o => Add("final " + o.Outcome, () => Finals.Add(o));
            }

            public int Count
            {
                get { lock (this) return Events.Count; }
            }

            private void Add(string what, Action record)
            {
                lock (this)
                {
                    Events.Add(what);
                    Threads.Add(Thread.CurrentThread.ManagedThreadId);
                    record();
                }
            }
        }

        // ---- tests ---------------------------------------------------------------------------

        // Static and [MonoPInvokeCallback]: full AOT (like IL2CPP) refuses native calls into lambdas.
        [AOT.MonoPInvokeCallback(typeof(NativeMethods.xo_event_callback))]
        private static void IgnoreEvent(IntPtr userdata, IntPtr evt)
        {
        }

        private static void TestVersion()
        {
            T.Check(XoTracker.Version.Length >= 5, "version string: " + XoTracker.Version);
            T.Equal(XoTracker.BindingAbiVersion, XoTracker.NativeAbiVersion, "ABI version of the loaded library");
            T.Equal(PackageCheck.PackageVersion, XoTracker.Version, "package.json version equals the library version");
        }

        private static void TestIosLibraryName(string dir)
        {
            var assembly = System.Reflection.Assembly.LoadFrom(Path.Combine(dir, "Xo.Tracker.iOS.dll"));
            var native = assembly.GetType("Xo.Tracker.NativeMethods", true);
            var name = native.GetField("LibraryName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
            T.Equal("__Internal", (string)name.GetRawConstantValue(), "LibraryName with UNITY_IOS");
            T.Equal("xo_tracker", NativeMethods.LibraryName, "LibraryName elsewhere");
            T.Check(!string.Equals(NativeMethods.LibraryName, typeof(XoTracker).Assembly.GetName().Name,
                StringComparison.OrdinalIgnoreCase), "native library name differs from the managed assembly's");
        }

        private static void TestBadArguments()
        {
            XoTracker.Shutdown();
            var e = T.Throws<XoException>(() => XoTracker.Track(1, Token), "Track before Configure throws");
            if (e != null)
            {
                T.Equal(XoResult.NotConfigured, e.Result, "result");
                T.Check(e.Message.Contains("xo_configure"), "the library's message: " + e.Message);
            }
            T.Throws<ArgumentNullException>(() => XoTracker.Configure((XoConfig)null), "Configure(null)");
            var config = SimConfig();
            config.ProjectId = 0;
            var a = T.Throws<XoArgumentException>(() => XoTracker.Configure(config), "project id 0");
            if (a != null)
                T.Equal(XoResult.InvalidArgument, a.Result, "result");
            config = SimConfig();
            config.AllowInsecureLoopback = false;
            a = T.Throws<XoArgumentException>(() => XoTracker.Configure(config), "ws:// without AllowInsecureLoopback");
            if (a != null)
                T.Check(a.Message.Contains("allow_insecure_loopback"), "message names the flag: " + a.Message);
            config = SimConfig();
            config.PollIntervalMs = -1;
            T.Throws<ArgumentOutOfRangeException>(() => XoTracker.Configure(config), "negative interval");
            T.Check(!XoTracker.IsConfigured, "still not configured");

            XoTracker.Configure(SimConfig());
            T.Check(XoTracker.IsConfigured, "configured");

            // The exact message the library gives for a NULL token, straight from the C API.
            NativeMethods.xo_track_order(1, null, IgnoreEvent, IntPtr.Zero);
            var nullTokenMessage = Utf8.FromNative(NativeMethods.xo_last_error());
            a = T.Throws<XoArgumentException>(() => XoTracker.Track(1, null), "null token");
            if (a != null)
            {
                T.Equal(XoResult.NullArgument, a.Result, "result");
                T.Equal(nullTokenMessage, a.Message, "message is the library's");
                T.Equal("token", a.ParamName, "parameter");
            }
            a = T.Throws<XoArgumentException>(() => XoTracker.Track(0, Token), "order id 0");
            if (a != null)
            {
                T.Equal(XoResult.InvalidArgument, a.Result, "result");
                T.Check(a.Message.Contains("order_id must be positive"), "message: " + a.Message);
                T.Equal("orderId", a.ParamName, "parameter");
            }
            T.Throws<XoArgumentException>(() => XoTracker.Track(-5, Token), "negative order id");
            T.Throws<XoArgumentException>(() => XoTracker.Track(1, ""), "empty token");
            a = T.Throws<XoArgumentException>(() => XoTracker.Track(1, new string('a', NativeMethods.XO_MAX_TOKEN_BYTES + 1)),
                "token longer than XO_MAX_TOKEN_BYTES");
            if (a != null)
                T.Check(a.Message.Contains("longer than"), "message: " + a.Message);
            T.Throws<XoArgumentException>(() => XoTracker.CheckOrderAsync(-1, Token), "check: thrown at once, not via the task");
            var u = T.Throws<XoException>(() => XoTracker.UpdateToken(987654321, Token), "UpdateToken of an unknown handle");
            if (u != null)
                T.Equal(XoResult.UnknownHandle, u.Result, "result");
            T.Throws<ArgumentOutOfRangeException>(() => XoTracker.SetLogHandler((l, m) => { }, (LogLevel)9), "log level 9");
            T.Throws<ArgumentOutOfRangeException>(() => XoTracker.Dispatch(-1), "Dispatch(-1)");
            T.Check(!Token.Contains(nullTokenMessage) || nullTokenMessage.Length == 0, "no token in messages");

            // UTF-8 marshalling: a non-ASCII token is valid UTF-8 (ANSI marshalling would make it invalid).
            s_sim.AddOrder(700, "new");
            var tracking = XoTracker.Track(700, "jwt-\u00e9\u2713-token");
            T.Check(tracking.Handle > 0, "a non-ASCII token is accepted");
            var b = T.Throws<XoException>(() => XoTracker.Configure(SimConfig()), "Configure while tracking");
            if (b != null)
                T.Equal(XoResult.Busy, b.Result, "result");
            tracking.Cancel();
            T.Equal(0, XoTracker.ActiveCount, "no live request after failures and a cancel");
            T.Equal(XoTracker.HandlesAllocated, XoTracker.HandlesFreed, "GCHandles of failed calls are freed");
        }

        private static void TestJournalResume()
        {
            var dir = Path.Combine(Path.GetTempPath(), "xo-cs-journal-" + Process.GetCurrentProcess().Id);
            if (Directory.Exists(dir))
                Directory.Delete(dir, true);
            var config = SimConfig();
            config.JournalDir = dir;
            XoTracker.Configure(config);
            T.Equal(XoResult.Ok, XoTracker.JournalStatus, "journal writes to disk: " + XoTracker.JournalProblem);
            s_sim.AddOrder(790, "new", "done", 100);
            var tracking = XoTracker.Track(790, Token);
            T.Check(T.PumpUntil(() => tracking.IsFinished, 10000), "finished");
            T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done");
            T.Equal(Origin.Live, tracking.Outcome.Origin, "live origin");
            XoTracker.Shutdown(); // the game quits before granting

            XoTracker.Configure(config);
            var resumed = XoTracker.ResumePending(Token);
            var outcomes = new List<OrderOutcome>();
            resumed.Finished += o => outcomes.Add(o);
            T.Equal(1, resumed.Count, "one order to redeliver");
            T.Check(T.PumpUntil(() => outcomes.Count == 1, 10000), "redelivered");
            if (outcomes.Count == 1)
            {
                var o = outcomes[0];
                T.Equal(790L, o.OrderId, "order id");
                T.Check(o.IsDone, "done");
                T.Equal(Origin.Redelivered, o.Origin, "redelivered origin");
                T.Check(o.Contents != null && o.Contents.Items.Count == 1, "contents from the journal");
                T.Equal(XoResult.Ok, o.Acknowledge(), "acknowledge");
                T.Equal(XoResult.Ok, o.Acknowledge(), "acknowledge twice");
            }
            T.Equal(XoResult.UnknownOrder, XoTracker.Acknowledge(791), "unknown order");
            XoTracker.Shutdown();

            XoTracker.Configure(config);
            var again = XoTracker.ResumePending(Token);
            T.Equal(0, again.Count, "never after the acknowledgement");
            var e = T.Throws<XoException>(() => XoTracker.Track(790, Token), "tracking an acknowledged order");
            if (e != null)
                T.Equal(XoResult.AlreadyAcknowledged, e.Result, "result");
            XoTracker.Shutdown();
            T.Equal(0, XoTracker.ActiveCount, "the resume object is released by Shutdown");
            foreach (var file in Directory.GetFiles(dir))
                T.Check(!File.ReadAllText(file).Contains(Token), "no token in " + Path.GetFileName(file));
            Directory.Delete(dir, true);
        }

        private static void TestSuccessOverSocket()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(701, "new", "done", 300);
            var tracking = XoTracker.Track(701, Token);
            var r = new Recorder(tracking);
            T.Check(tracking.Handle > 0, "handle");
            T.Equal(701L, tracking.OrderId, "order id");
            T.Check(T.PumpUntil(() => tracking.IsFinished, 10000), "finished");
            T.Equal(1, r.Finals.Count, "one final event");
            var outcome = tracking.Outcome;
            T.Check(outcome != null && outcome.IsDone, "outcome done: " + outcome);
            T.Check(tracking.Completion.Wait(1000) && ReferenceEquals(tracking.Completion.Result, outcome), "task has the outcome");
            T.Check(r.Statuses.IndexOf(OrderStatus.New) >= 0, "status new seen");
            T.Check(r.Statuses.IndexOf(OrderStatus.New) < r.Statuses.IndexOf(OrderStatus.Done), "new before done");
            T.Check(r.Transports.Contains(TransportState.SocketConnected), "socket connected");
            T.Equal(OrderStatus.Done, tracking.Status, "latest status");
            T.Equal("done", tracking.StatusRaw, "raw status");
            T.Check(outcome != null && outcome.Contents != null, "contents parsed");
            if (outcome != null && outcome.Contents != null)
            {
                var c = outcome.Contents;
                T.Equal(1, c.Items.Count, "one item");
                T.Equal("com.xsolla.item_1", c.Items[0].Sku, "sku");
                T.Equal(1L, c.Items[0].Quantity, "quantity");
                T.Equal("30", c.Price.Amount, "price");
                T.Equal("USD", c.Price.Currency, "currency");
                T.Equal("test_vc", c.VirtualPrice.Currency, "virtual currency");
                T.Equal("150", c.VirtualPrice.AmountWithoutDiscount, "virtual amount without discount");
                T.Check(!c.IsFree, "not free");
                T.Check(!outcome.ContentsJson.Contains(Token), "no token in contents");
            }
            T.Equal(0, XoTracker.ActiveCount, "GCHandle freed after the final event");
            tracking.Cancel(); // after the final: a no-op
            tracking.Dispose();
            T.Check(!tracking.IsCancelled, "cancel after the final changes nothing");
            var e = T.Throws<XoException>(() => tracking.UpdateToken("new-token"), "UpdateToken after the final");
            if (e != null)
                T.Equal(XoResult.UnknownHandle, e.Result, "result");
        }

        private static void TestFallbackToPolling()
        {
            XoTracker.Configure(SimConfig());
            s_sim.Fault("{\"fault\":\"centrifugo_refuse\",\"n\":1000000}");
            try
            {
                s_sim.AddOrder(702, "new", "done", 400, push: false);
                var tracking = XoTracker.Track(702, "another-token");
                var r = new Recorder(tracking);
                T.Check(T.PumpUntil(() => tracking.IsFinished, 10000), "finished");
                T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done");
                T.Check(r.Transports.Contains(TransportState.Polling), "polling reported");
                T.Check(!r.Transports.Contains(TransportState.SocketConnected), "no socket");
                T.Check(tracking.Outcome != null && tracking.Outcome.Contents != null, "contents over polling");
            }
            finally
            {
                s_sim.Fault("{\"fault\":\"centrifugo_refuse\",\"n\":0}");
            }
        }

        /// <summary>A SynchronizationContext like Unity's: Post queues, the pump loop runs the queue.</summary>
        private sealed class MainThreadContext : SynchronizationContext
        {
            private readonly ConcurrentQueue<KeyValuePair<SendOrPostCallback, object>> _queue =
                new ConcurrentQueue<KeyValuePair<SendOrPostCallback, object>>();

            public override void Post(SendOrPostCallback d, object state)
            {
                _queue.Enqueue(new KeyValuePair<SendOrPostCallback, object>(d, state));
            }

            public void RunPending()
            {
                KeyValuePair<SendOrPostCallback, object> item;
                while (_queue.TryDequeue(out item))
                    item.Key(item.Value);
            }
        }

        private static void TestAwaitOnContext()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(720, "new", "done", 200);
            var context = new MainThreadContext();
            var previous = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                var main = Thread.CurrentThread.ManagedThreadId;
                var continuationThread = -1;
                OrderOutcome result = null;
                Func<Task> flow = async () =>
                {
                    var outcome = await XoTracker.Track(720, Token); // awaits the tracking itself
                    continuationThread = Thread.CurrentThread.ManagedThreadId;
                    result = outcome;
                };
                var task = flow();
                T.Check(T.PumpUntil(() =>
                {
                    context.RunPending();
                    return task.IsCompleted;
                }, 10000), "the async flow completed");
                T.Check(result != null && result.IsDone, "await gave the outcome");
                T.Equal(main, continuationThread, "the continuation ran on the main thread");
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }

        private static void TestCancel()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(703, "new");
            var tracking = XoTracker.Track(703, Token);
            var r = new Recorder(tracking);
            T.Check(T.PumpUntil(() => r.Count > 0, 5000), "first event");
            T.Equal(1, XoTracker.ActiveCount, "one live tracker");
            tracking.Cancel();
            T.Equal(0, XoTracker.ActiveCount, "GCHandle freed by Cancel");
            T.Check(tracking.IsCancelled, "IsCancelled");
            T.Check(tracking.Completion.IsCanceled, "the task is cancelled");
            var seen = r.Count;
            s_sim.SetStatus(703, "done");
            T.PumpFor(500);
            T.Equal(seen, r.Count, "no event after Cancel");
            T.Equal(0, r.Finals.Count, "no final after Cancel");
            tracking.Cancel();
            tracking.Dispose();
            T.Equal(XoTracker.HandlesAllocated, XoTracker.HandlesFreed, "freed exactly once (no double free)");

            // Dispose before any pump: nothing is ever delivered.
            s_sim.AddOrder(704, "done");
            using (var t2 = XoTracker.Track(704, Token))
            {
                var r2 = new Recorder(t2);
                t2.Dispose();
                T.PumpFor(300);
                T.Equal(0, r2.Count, "disposed before dispatch: no events at all");
            }

            // Cancelling a check through its CancellationToken.
            s_sim.AddOrder(705, "paid");
            s_sim.Fault("{\"fault\":\"http_delay\",\"order_id\":705,\"n\":1,\"delay_ms\":2000}");
            var cts = new CancellationTokenSource();
            var check = XoTracker.CheckOrderAsync(705, Token, cts.Token);
            T.Equal(1, XoTracker.ActiveCount, "the check is live");
            cts.Cancel();
            T.Check(check.IsCanceled, "the check's task is cancelled");
            T.Equal(0, XoTracker.ActiveCount, "the check's GCHandle is freed");
            T.PumpFor(200);
        }

        private static void TestCancelInsideHandler()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(706, "new", "done", 200);
            var tracking = XoTracker.Track(706, Token);
            var events = 0;
            XoException shutdownInside = null, dispatchInside = null;
            tracking.StatusChanged += s =>
            {
                events++;
                try
                {
                    XoTracker.Shutdown();
                }
                catch (XoException e)
                {
                    shutdownInside = e;
                }
                try
                {
                    XoTracker.Dispatch();
                }
                catch (XoException e)
                {
                    dispatchInside = e;
                }
                tracking.Cancel();
            };
            tracking.TransportChanged += t => events++;
            T.Check(T.PumpUntil(() => tracking.IsCancelled, 5000), "cancelled from the handler");
            var seen = events;
            T.PumpFor(700);
            T.Equal(seen, events, "nothing after the cancel");
            T.Check(!tracking.IsFinished, "no final");
            T.Equal(0, XoTracker.ActiveCount, "freed");
            T.Check(shutdownInside != null && shutdownInside.Result == XoResult.InCallback, "Shutdown inside a handler is refused");
            T.Check(dispatchInside != null && dispatchInside.Result == XoResult.InCallback, "Dispatch inside a handler is refused");
            T.Check(XoTracker.IsConfigured, "still configured");
        }

        private static void TestFinalExactlyOnce()
        {
            XoTracker.Configure(SimConfig());
            var trackings = new List<OrderTracking>();
            var finals = new Dictionary<long, int>();
            for (long id = 730; id < 740; id++)
            {
                // Several status changes race with the start: done is pushed and fetched at once.
                s_sim.AddOrder(id, id % 2 == 0 ? "done" : "paid", id % 2 == 0 ? null : "done", 30);
                var t = XoTracker.Track(id, Token);
                var orderId = id;
                finals[orderId] = 0;
                t.Finished += o => finals[orderId]++;
                trackings.Add(t);
            }
            T.Check(T.PumpUntil(() => trackings.All(t => t.IsFinished), 10000), "all finished");
            s_sim.SetStatus(731, "canceled"); // after the final: must not produce a second one
            T.PumpFor(300);
            T.Check(finals.Values.All(n => n == 1), "exactly one Finished per order: " + string.Join(",", finals.Values));
            T.Check(trackings.All(t => t.Outcome.IsDone), "all done");
            var late = 0;
            trackings[0].Finished += o => late++;
            T.Equal(1, late, "a late subscriber runs at once");
            T.Equal(0, XoTracker.ActiveCount, "all freed");
        }

        private static void TestHandlerExceptions()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(741, "done");
            Exception ignored;
            while (s_handlerExceptions.TryDequeue(out ignored))
            {
            }
            var tracking = XoTracker.Track(741, Token);
            var second = 0;
            tracking.StatusChanged += s => { throw new InvalidOperationException("boom in StatusChanged"); };
            tracking.Finished += o => { throw new InvalidOperationException("boom in Finished"); };
            tracking.Finished += o => second++;
            T.Check(T.PumpUntil(() => tracking.IsFinished, 5000), "finished despite throwing handlers");
            T.Equal(1, second, "the next handler still ran");
            T.Check(tracking.Completion.Wait(1000) && tracking.Completion.Result.IsDone, "task completed");
            var messages = s_handlerExceptions.Select(e => e.Message).ToList();
            T.Check(messages.Contains("boom in StatusChanged") && messages.Contains("boom in Finished"),
                "HandlerException received both: " + string.Join(" | ", messages));
            T.Equal(0, XoTracker.ActiveCount, "freed");
        }

        private static void TestQueuedOnPumpingThread()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(742, "new", "done", 200);
            var tracking = XoTracker.Track(742, Token);
            var r = new Recorder(tracking);
            Thread.Sleep(400);
            T.Equal(0, r.Count, "nothing runs without Dispatch");
            var pumpThreadId = 0;
            var pump = new Thread(() =>
            {
                pumpThreadId = Thread.CurrentThread.ManagedThreadId;
                T.PumpUntil(() => tracking.IsFinished, 10000);
            });
            pump.Start();
            pump.Join();
            T.Check(tracking.IsFinished, "finished");
            T.Check(r.Count >= 3, "events delivered: " + string.Join(", ", r.Events));
            T.Check(r.Threads.Count == 1 && r.Threads.Contains(pumpThreadId), "every event ran on the pumping thread");
            T.Check(pumpThreadId != Thread.CurrentThread.ManagedThreadId, "(a different thread from the test's)");
        }

        private static void TestCheckOrder()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(743, "paid");
            var check = XoTracker.CheckOrderAsync(743, Token);
            T.Check(T.PumpUntil(() => check.IsCompleted, 5000), "check answered");
            var o = check.Result;
            T.Equal(Outcome.None, o.Outcome, "not final");
            T.Equal(OrderStatus.Paid, o.Status, "status paid");
            T.Check(o.Contents != null && o.Contents.Items.Count == 1, "contents parsed");
            T.Equal(0, XoTracker.ActiveCount, "freed");

            s_sim.AddOrder(744, "done");
            check = XoTracker.CheckOrderAsync(744, Token);
            T.Check(T.PumpUntil(() => check.IsCompleted, 5000), "check answered");
            T.Check(check.Result.IsDone, "done");

            check = XoTracker.CheckOrderAsync(99999, Token); // unknown to the simulator
            T.Check(T.PumpUntil(() => check.IsCompleted, 5000), "check answered");
            T.Equal(Outcome.NotFound, check.Result.Outcome, "not found");
            T.Check(check.Result.Message.Length > 0, "with a message: " + check.Result.Message);
            T.Equal(0, XoTracker.ActiveCount, "freed");
        }

        private static void TestTokenExpiry()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(745, "new");
            const string first = "token-that-expires";
            var tracking = XoTracker.Track(745, first);
            var r = new Recorder(tracking);
            tracking.TokenExpired += () => tracking.UpdateToken("fresh-token");
            T.Check(T.PumpUntil(() => r.Transports.Contains(TransportState.SocketConnected), 5000), "socket connected");
            T.Equal(200, s_sim.Post("/_sim/expire_token", "{\"token\":\"" + first + "\"}"), "token expired in the simulator");
            T.Check(T.PumpUntil(() => r.TokenExpired > 0, 5000), "TokenExpired raised");
            s_sim.SetStatus(745, "done");
            T.Check(T.PumpUntil(() => tracking.IsFinished, 5000), "finished with the new token");
            T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done: " + tracking.Outcome);
        }

        private static void TestAppActive()
        {
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(746, "new");
            var tracking = XoTracker.Track(746, Token);
            var r = new Recorder(tracking);
            T.Check(T.PumpUntil(() => r.Transports.Contains(TransportState.SocketConnected), 5000), "socket connected");
            XoTracker.SetAppActive(false);
            T.PumpFor(300);
            s_sim.SetStatus(746, "done");
            T.PumpFor(500);
            T.Check(!tracking.IsFinished, "paused: nothing learned (socket closed, no polling)");
            var watch = Stopwatch.StartNew();
            XoTracker.SetAppActive(true);
            T.Check(T.PumpUntil(() => tracking.IsFinished, 3000), "resumed: checked at once");
            T.Check(watch.ElapsedMilliseconds < 2000, "within 2 s of resuming (" + watch.ElapsedMilliseconds + " ms)");
            T.Check(tracking.Outcome != null && tracking.Outcome.IsDone, "done");

            s_sim.AddOrder(747, "new", "done", 300);
            var t2 = XoTracker.Track(747, Token);
            XoTracker.NetworkChanged();
            T.Check(T.PumpUntil(() => t2.IsFinished, 5000), "tracking goes on after NetworkChanged");
            XoTracker.NetworkChanged(); // nothing tracked: still fine
            XoTracker.Shutdown();
            XoTracker.SetAppActive(false); // not configured: fine
            XoTracker.SetAppActive(true);
            XoTracker.NetworkChanged();

            // "Paused" set after xo_shutdown (behind the binding's back, e.g. by another host) is kept
            // by the library until the next xo_configure: Configure hands it this binding's state.
            T.Equal(XoResult.Ok, NativeMethods.xo_set_app_active(0), "paused behind the binding's back");
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(749, "done");
            var t3 = XoTracker.Track(749, Token);
            T.Check(T.PumpUntil(() => t3.IsFinished, 3000), "Configure re-applied the app-active state");
        }

        private static void TestLogHandler()
        {
            var lines = new List<string>();
            var threads = new HashSet<int>();
            XoTracker.SetLogHandler((level, line) =>
            {
                lines.Add(level + " " + line);
                threads.Add(Thread.CurrentThread.ManagedThreadId);
            }, LogLevel.Debug);
            try
            {
                XoTracker.Configure(SimConfig());
                s_sim.AddOrder(748, "done");
                var tracking = XoTracker.Track(748, Token);
                T.Check(T.PumpUntil(() => tracking.IsFinished, 5000), "finished");
                T.Check(lines.Count > 0, "log lines received: " + lines.Count);
                T.Check(threads.Count == 1 && threads.Contains(Thread.CurrentThread.ManagedThreadId), "on the pumping thread");
                T.Check(!lines.Any(l => l.Contains(Token)), "no token in the log");
            }
            finally
            {
                XoTracker.SetLogHandler(null);
            }
        }

        private static void TestShutdownAndRestart()
        {
            for (var round = 0; round < 3; round++)
            {
                XoTracker.Configure(SimConfig());
                var id = 750 + round;
                s_sim.AddOrder(id, "new");
                var tracking = XoTracker.Track(id, Token);
                var check = XoTracker.CheckOrderAsync(id, Token);
                var r = new Recorder(tracking);
                T.Check(T.PumpUntil(() => r.Count > 0, 5000), "round " + round + ": first event");
                T.Check(XoTracker.ActiveCount >= 1, "live requests: " + XoTracker.ActiveCount);
                XoTracker.Shutdown();
                T.Check(!XoTracker.IsConfigured, "not configured after Shutdown");
                T.Equal(0, XoTracker.ActiveCount, "every GCHandle freed by Shutdown");
                T.Check(tracking.IsCancelled && tracking.Completion.IsCanceled, "the tracking ended as cancelled");
                T.Check(check.IsCompleted, "the check's task ended");
                var seen = r.Count;
                s_sim.SetStatus(id, "done");
                T.PumpFor(200);
                T.Equal(seen, r.Count, "no event after Shutdown");
                var e = T.Throws<XoException>(() => XoTracker.Track(id, Token), "Track after Shutdown");
                if (e != null)
                    T.Equal(XoResult.NotConfigured, e.Result, "result");
                XoTracker.Shutdown(); // idempotent
            }
            XoTracker.Configure(SimConfig());
            s_sim.AddOrder(760, "done");
            var again = XoTracker.Track(760, Token);
            T.Check(T.PumpUntil(() => again.IsFinished, 5000) && again.Outcome.IsDone, "tracking works after re-configure");
        }

        private static void TestThousandOrders()
        {
            const int n = 1000;
            XoTracker.Configure(SimConfig());
            for (var i = 0; i < n; i++)
                s_sim.AddOrder(10000 + i, i % 4 == 1 ? "canceled" : "done");
            var allocatedBefore = XoTracker.HandlesAllocated;
            var weak = new List<WeakReference>();
            var finals = new int[n];
            var wrong = 0;
            var cancelled = 0;
            var watch = Stopwatch.StartNew();
            // Run on a thread that ends, so no stack slot of this one can keep a tracking alive.
            var worker = new Thread(() => TrackMany(n, weak, finals, ref wrong, ref cancelled));
            worker.Start();
            worker.Join();
            Console.WriteLine("     1000 orders tracked in " + watch.ElapsedMilliseconds + " ms");
            T.Equal(0, XoTracker.ActiveCount, "no live request");
            T.Equal(n, (int)(XoTracker.HandlesAllocated - allocatedBefore), "1000 GCHandles allocated");
            T.Equal(XoTracker.HandlesAllocated, XoTracker.HandlesFreed, "as many freed");
            T.Equal(0, wrong, "every outcome matches the order's status");
            var expectedFinals = Enumerable.Range(0, n).Count(i => i % 3 != 0);
            T.Equal(expectedFinals, finals.Count(f => f == 1), "exactly one Finished for each order not cancelled");
            T.Equal(0, finals.Count(f => f > 1), "never two");
            T.Equal(n - expectedFinals, cancelled, "the cancelled ones");
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            var alive = weak.Count(w => w.IsAlive);
            T.Equal(0, alive, "no tracking kept alive after it ended (no GCHandle leaked)");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TrackMany(int n, List<WeakReference> weak, int[] finals, ref int wrong, ref int cancelled)
        {
            var trackings = new OrderTracking[n];
            var wrongCount = 0;
            for (var i = 0; i < n; i++)
            {
                var index = i;
                var expected = i % 4 == 1 ? Outcome.Canceled : Outcome.Done;
                var t = XoTracker.Track(10000 + i, Token);
                t.Finished += o =>
                {
                    finals[index]++;
                    if (o.Outcome != expected)
                        wrongCount++;
                };
                if (i % 3 == 0)
                    t.Cancel();
                trackings[i] = t;
                weak.Add(new WeakReference(t));
            }
            T.Check(T.PumpUntil(() => trackings.All(t => t.IsFinished || t.IsCancelled), 30000),
                "all 1000 finished or cancelled");
            T.PumpFor(100);
            cancelled = trackings.Count(t => t.IsCancelled);
            wrong = wrongCount;
        }
    }
}
