using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// Chaos pass: a few dozen orders per seed tracked through the binding against
    /// `xo-sim --chaos SEED` (see sim/README.md, "Chaos mode"), every seventh cancelled.
    /// Checks per seed: exactly one Finished per order with its scripted outcome, no event after
    /// Cancel, no 8-byte piece of the token in any message, raw status or log line, chaos faults
    /// injected, and no hang (bounded pumping).
    /// </summary>
    internal static class ChaosTest
    {
        private const int Orders = 24;
        private const int FinalWaitMs = 40000;
        private static readonly long[] Seeds = { 21, 22, 23 };

        private sealed class Order
        {
            public long Id;
            public Outcome Expected;
            public bool Cancel;
            public bool Cancelled;
            public int Finals;
            public int AfterCancel;
            public Outcome Got;
            public OrderTracking Tracking;
        }

        public static void Run(string simPath)
        {
            XoTracker.Shutdown();
            foreach (var seed in Seeds)
                RunSeed(simPath, seed);
        }

        private static bool Leaks(string token, string text)
        {
            if (string.IsNullOrEmpty(text))
                return false;
            for (var i = 0; i + 8 <= token.Length; i++)
            {
                if (text.IndexOf(token.Substring(i, 8), StringComparison.Ordinal) >= 0)
                    return true;
            }
            return false;
        }

        private static void RunSeed(string simPath, long seed)
        {
            var info = new ProcessStartInfo(simPath, "--chaos " + seed + " --ping-secs 2")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            };
            using (var process = Process.Start(info))
            {
                var first = process.StandardOutput.ReadLine();
                const string prefix = "XO_SIM_LISTENING 127.0.0.1:";
                T.Check(first != null && first.StartsWith(prefix, StringComparison.Ordinal), "xo-sim --chaos starts");
                if (first == null || !first.StartsWith(prefix, StringComparison.Ordinal))
                    return;
                var sim = new Sim(int.Parse(first.Substring(prefix.Length)));
                try
                {
                    RunAgainst(sim, seed);
                }
                finally
                {
                    process.StandardInput.Close(); // end of file: the simulator stops
                    if (!process.WaitForExit(5000))
                        process.Kill();
                }
            }
        }

        private static void RunAgainst(Sim sim, long seed)
        {
            var token = "eyJhbGciOiJIUzI1NiJ9.eyJjcyI6" + seed + "fQ.Y3NoYXJwLWNoYW9zLXNpZw";
            var gate = new object();
            int leaked = 0, redacted = 0, logLines = 0;
            string leakExample = null;
            Action<string> scan = text =>
            {
                if (Leaks(token, text))
                {
                    leaked++;
                    leakExample = text;
                }
                if (text != null && text.Contains("<redacted>"))
                    redacted++;
            };
            string[] finals = { "done", "canceled", "expired" };
            Outcome[] outcomes = { Outcome.Done, Outcome.Canceled, Outcome.Expired };
            var orders = new List<Order>();
            for (var i = 0; i < Orders; i++)
            {
                var o = new Order { Id = seed * 1000 + i + 1, Expected = outcomes[i % 3], Cancel = i % 7 == 5 };
                orders.Add(o);
                var json = "{\"order_id\":" + o.Id + ",\"status\":\"new\",\"timeline\":[{\"after_ms\":" +
                           (100 + i * 43 % 800) + ",\"status\":\"paid\"},{\"after_ms\":" + (150 + i * 71 % 1700) +
                           ",\"status\":\"" + finals[i % 3] + "\"}]}";
                T.Equal(200, sim.Post("/_sim/order", json), "order scripted");
            }
            XoTracker.Configure(new XoConfig
            {
                ProjectId = 1001,
                Transport = seed % 2 == 0 ? Transport.LegacySocket : Transport.Centrifugo,
                CentrifugoUrl = sim.CentrifugoUrl,
                LegacySocketUrl = sim.LegacySocketUrl,
                ApiBaseUrl = sim.ApiBaseUrl,
                PollIntervalMs = 150,
                RequestTimeoutMs = 800, // below the simulator's 2.5 s stalls
                BackoffMinMs = 30,
                BackoffMaxMs = 300,
                PollingDeadlineMs = 60000,
                OverallDeadlineMs = 90000,
                TokenWaitMs = 2000,
                AllowInsecureLoopback = true,
            });
            XoTracker.SetLogHandler((level, line) =>
            {
                lock (gate)
                {
                    logLines++;
                    scan(line);
                }
            }, LogLevel.Debug);
            foreach (var o in orders)
            {
                var order = o;
                var tracking = XoTracker.Track(order.Id, token);
                order.Tracking = tracking;
                tracking.StatusChanged += s =>
                {
                    lock (gate)
                    {
                        if (order.Cancelled) order.AfterCancel++;
                        scan(tracking.StatusRaw);
                    }
                };
                tracking.TransportChanged += t =>
                {
                    lock (gate)
                    {
                        if (order.Cancelled) order.AfterCancel++;
                        scan(t.Message);
                    }
                };
                tracking.Finished += outcome =>
                {
                    lock (gate)
                    {
                        if (order.Cancelled) order.AfterCancel++;
                        order.Finals++;
                        order.Got = outcome.Outcome;
                        scan(outcome.Message);
                        scan(outcome.StatusRaw);
                    }
                };
            }
            T.PumpUntil(() => false, 150);
            foreach (var o in orders)
            {
                if (!o.Cancel || o.Tracking.IsFinished)
                    continue;
                o.Tracking.Cancel();
                lock (gate) o.Cancelled = !o.Tracking.IsFinished;
            }
            var settled = T.PumpUntil(() =>
            {
                lock (gate)
                {
                    foreach (var o in orders)
                        if (!o.Cancelled && o.Finals == 0)
                            return false;
                    return true;
                }
            }, FinalWaitMs);
            T.PumpUntil(() => false, 200); // a second final or a late event would show up now
            T.Check(settled, "seed " + seed + ": every order that was not cancelled finished (no hang)");
            var cancelled = 0;
            lock (gate)
            {
                foreach (var o in orders)
                {
                    if (o.Cancelled)
                    {
                        cancelled++;
                        T.Equal(0, o.AfterCancel, "seed " + seed + ": no event after Cancel, order " + o.Id);
                        continue;
                    }
                    T.Equal(1, o.Finals, "seed " + seed + ": one Finished, order " + o.Id);
                    if (o.Finals == 1)
                        T.Equal(o.Expected, o.Got, "seed " + seed + ": scripted outcome, order " + o.Id);
                }
            }
            XoTracker.Shutdown();
            XoTracker.SetLogHandler(null);
            lock (gate)
            {
                T.Equal(0, leaked, "seed " + seed + ": no token piece in any message or log line" +
                                   (leakExample == null ? "" : " (" + leakExample + ")"));
            }
            var stats = sim.Get("/_sim/stats");
            var at = stats.IndexOf("\"chaos_faults\":", StringComparison.Ordinal);
            var faults = -1;
            if (at >= 0)
            {
                var digits = stats.Substring(at + 15);
                var end = 0;
                while (end < digits.Length && char.IsDigit(digits[end])) end++;
                faults = end > 0 ? int.Parse(digits.Substring(0, end)) : -1;
            }
            T.Check(faults > 0, "seed " + seed + ": the simulator injected chaos faults");
            Console.WriteLine("  chaos seed " + seed + ": " + (seed % 2 == 0 ? "legacy socket" : "centrifugo") + ", " +
                              Orders + " orders (" + cancelled + " cancelled), " + faults + " chaos faults, " +
                              logLines + " log lines, " + redacted + " redacted echoes");
        }
    }
}
