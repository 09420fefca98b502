using System;
using System.Diagnostics;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Benchmark mode (Xo.Tracker.Tests.exe --bench &lt;xo-sim&gt;): the managed cost of the main-thread
    /// pump under Mono. Managed bytes allocated per Dispatch with nothing pending (target 0) and
    /// per delivered event (by kind), and the time of an idle Dispatch, i.e. of an idle pump frame.
    /// Numbers are printed as "bench: ..." lines (BENCHMARKS.md, "C# binding").
    /// </summary>
    internal static class Bench
    {
        private const string Token = "csharp-bench-token";

        private static long Allocated()
        {
            return GC.GetAllocatedBytesForCurrentThread();
        }

        /// <summary>Bytes allocated per call over n idle Dispatch calls (also used by the suite).</summary>
        internal static double IdleDispatchBytes(int n, out double nsPerCall)
        {
            for (var i = 0; i < 1000; i++)
                XoTracker.Dispatch(); // warm up (JIT, first-call paths)
            var watch = Stopwatch.StartNew();
            var before = Allocated();
            var ran = 0;
            for (var i = 0; i < n; i++)
                ran += XoTracker.Dispatch();
            var bytes = Allocated() - before;
            watch.Stop();
            nsPerCall = watch.Elapsed.TotalMilliseconds * 1e6 / n;
            return ran == 0 ? (double)bytes / n : double.NaN;
        }

        public static int Run(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: Xo.Tracker.Tests.exe --bench <xo-sim>");
                return 2;
            }
            using (var sim = new Sim(args[1]))
            {
                XoTracker.SetLogHandler((level, line) => { }, LogLevel.Error);
                XoTracker.Configure(new XoConfig
                {
                    ProjectId = 1001,
                    CentrifugoUrl = sim.CentrifugoUrl,
                    ApiBaseUrl = sim.ApiBaseUrl,
                    PollIntervalMs = 100,
                    AllowInsecureLoopback = true,
                });
                double ns;
                var idle = IdleDispatchBytes(200000, out ns);
                Console.WriteLine("bench: idle Dispatch, no tracker: {0:0.###} B/call, {1:0} ns/call (200000 calls)", idle, ns);

                // 100 live trackers with their sockets up and nothing pending.
                const int live = 100;
                var trackings = new OrderTracking[live];
                for (var i = 0; i < live; i++)
                {
                    sim.AddOrder(20000 + i, "new");
                    trackings[i] = XoTracker.Track(20000 + i, Token);
                }
                var connected = T.PumpUntil(() => Array.TrueForAll(trackings, t => t.Transport == TransportState.SocketConnected), 10000);
                T.PumpFor(200);
                idle = IdleDispatchBytes(200000, out ns);
                Console.WriteLine("bench: idle Dispatch, {0} live trackers{1}: {2:0.###} B/call, {3:0} ns/call (200000 calls)",
                    live, connected ? "" : " (not all connected)", idle, ns);
                foreach (var t in trackings)
                    t.Cancel();

                // Delivered events, one per Dispatch(1), attributed to their kind by the handlers.
                const int orders = 200;
                var kind = 0;
                var bytes = new long[4];
                var counts = new long[4];
                var finished = 0;
                for (var i = 0; i < orders; i++)
                {
                    sim.AddOrder(30000 + i, "new", "done", 100);
                    var t = XoTracker.Track(30000 + i, Token);
                    t.StatusChanged += s => kind = 1;
                    t.TransportChanged += c => kind = 2;
                    t.Finished += o =>
                    {
                        kind = 3;
                        finished++;
                    };
                }
                var watch = Stopwatch.StartNew();
                while (finished < orders && watch.ElapsedMilliseconds < 20000)
                {
                    kind = 0;
                    var before = Allocated();
                    var ran = XoTracker.Dispatch(1);
                    var after = Allocated();
                    if (ran == 1)
                    {
                        bytes[kind] += after - before;
                        counts[kind]++;
                    }
                    else
                        Thread.Sleep(1);
                }
                var names = new[] { "unattributed", "status changed", "transport changed", "final (done, with contents)" };
                for (var k = 1; k < 4; k++)
                    Console.WriteLine("bench: per delivered event, {0}: {1:0} B/event ({2} events)", names[k],
                        counts[k] == 0 ? 0 : (double)bytes[k] / counts[k], counts[k]);
                long allBytes = 0, allEvents = 0;
                for (var k = 0; k < 4; k++)
                {
                    allBytes += bytes[k];
                    allEvents += counts[k];
                }
                Console.WriteLine("bench: per delivered event, all kinds: {0:0} B/event ({1} events, {2} of {3} orders finished)",
                    allEvents == 0 ? 0 : (double)allBytes / allEvents, allEvents, finished, orders);
                XoTracker.Shutdown();
                XoTracker.SetLogHandler(null);
                return finished == orders ? 0 : 1;
            }
        }
    }
}
