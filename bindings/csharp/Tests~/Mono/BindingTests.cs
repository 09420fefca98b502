using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>Typed contents, CancellationToken tracking, default logging, app state across Shutdown.</summary>
    internal static class BindingTests
    {
        /// <summary>Native memory laid out like the library's xo_contents, freed by Dispose.</summary>
        private sealed class NativeBlocks : IDisposable
        {
            private readonly List<IntPtr> _blocks = new List<IntPtr>();

            public IntPtr Text(string s)
            {
                var p = Utf8.Alloc(s);
                if (p != IntPtr.Zero)
                    _blocks.Add(p);
                return p;
            }

            public IntPtr Struct<TStruct>(TStruct value) where TStruct : struct
            {
                return Array(new[] { value });
            }

            public IntPtr Array<TStruct>(TStruct[] values) where TStruct : struct
            {
                var size = Marshal.SizeOf(typeof(TStruct));
                var p = Marshal.AllocHGlobal(Math.Max(1, size * values.Length));
                _blocks.Add(p);
                for (var i = 0; i < values.Length; i++)
                    Marshal.StructureToPtr(values[i], IntPtr.Add(p, i * size), false);
                return p;
            }

            public IntPtr Price(string amount, string without, string currency)
            {
                return Struct(new NativeMethods.xo_price { amount = Text(amount), amount_without_discount = Text(without), currency = Text(currency) });
            }

            public void Dispose()
            {
                foreach (var p in _blocks)
                    Marshal.FreeHGlobal(p);
            }
        }

        public static void TestContentsMarshalling()
        {
            T.Check(OrderContents.FromNative(IntPtr.Zero) == null, "NULL contents: null");
            using (var n = new NativeBlocks())
            {
                var items = new[]
                {
                    new NativeMethods.xo_item { sku = n.Text("com.xsolla.item_1"), quantity = 2, is_free = 0,
                        price = n.Price("1.5", "2", "USD"), virtual_price = IntPtr.Zero },
                    new NativeMethods.xo_item { sku = n.Text("\u00e9p\u00e9e \u2713"), quantity = long.MaxValue, is_free = 1,
                        price = IntPtr.Zero, virtual_price = n.Price("150", "", "test_vc") },
                };
                var contents = new NativeMethods.xo_contents
                {
                    struct_size = (uint)Marshal.SizeOf(typeof(NativeMethods.xo_contents)),
                    is_free = 1,
                    price = n.Price("30", "30", "USD"),
                    virtual_price = IntPtr.Zero,
                    items = n.Array(items),
                    item_count = 2,
                };
                var c = OrderContents.FromNative(n.Struct(contents));
                T.Check(c != null, "contents read");
                if (c == null)
                    return;
                T.Equal("30", c.Price.Amount, "price amount");
                T.Equal("USD", c.Price.Currency, "currency");
                T.Equal(30m, c.Price.AmountValue, "amount as decimal");
                T.Check(c.VirtualPrice == null, "NULL virtual price: null");
                T.Check(c.IsFree, "is_free 1");
                T.Equal(2, c.Items.Count, "two items");
                T.Equal("com.xsolla.item_1", c.Items[0].Sku, "sku");
                T.Equal(2L, c.Items[0].Quantity, "quantity");
                T.Equal(1.5m, c.Items[0].Price.AmountValue, "item amount 1.5 (invariant culture)");
                T.Equal("2", c.Items[0].Price.AmountWithoutDiscount, "amount without discount");
                T.Check(!c.Items[0].IsFree && c.Items[0].VirtualPrice == null, "item 0: not free, no virtual price");
                T.Equal("\u00e9p\u00e9e \u2713", c.Items[1].Sku, "UTF-8 sku");
                T.Equal(long.MaxValue, c.Items[1].Quantity, "int64 quantity");
                T.Check(c.Items[1].IsFree && c.Items[1].Price == null, "item 1: free, no price");
                T.Equal("test_vc", c.Items[1].VirtualPrice.Currency, "item virtual currency");
                T.Equal("", c.Items[1].VirtualPrice.AmountWithoutDiscount, "empty text stays empty");

                // No items: items is NULL; and an older, smaller struct reads as far as it goes.
                var empty = new NativeMethods.xo_contents { struct_size = 8, is_free = 0, price = n.Price("1", "1", "EUR"), item_count = 5 };
                var e = OrderContents.FromNative(n.Struct(empty));
                T.Check(e != null && e.Items.Count == 0, "NULL items: no items, even with a count");
                T.Check(e != null && e.Price == null, "fields past struct_size are not read");

                // A count beyond XO_MAX_ITEMS is clamped (the library never sends one).
                var many = new NativeMethods.xo_item[NativeMethods.XO_MAX_ITEMS + 1];
                for (var i = 0; i < many.Length; i++)
                    many[i] = new NativeMethods.xo_item { sku = n.Text("s" + i), quantity = i };
                var big = contents;
                big.items = n.Array(many);
                big.item_count = (uint)many.Length;
                var b = OrderContents.FromNative(n.Struct(big));
                T.Equal(NativeMethods.XO_MAX_ITEMS, b.Items.Count, "at most XO_MAX_ITEMS items");
                T.Equal("s999", b.Items[999].Sku, "the last item kept");
            }
        }

        public static void TestTrackCancellationToken(Sim sim, Func<XoConfig> config, string token)
        {
            XoTracker.Configure(config());
            sim.AddOrder(770, "new");
            var cts = new CancellationTokenSource();
            var tracking = XoTracker.Track(770, token, cts.Token);
            var events = 0;
            tracking.StatusChanged += s => events++;
            tracking.Finished += o => events++;
            T.Check(T.PumpUntil(() => events > 0, 5000), "first event");
            cts.Cancel();
            T.Check(tracking.IsCancelled, "cancelling the token cancels the tracking");
            T.Check(tracking.Completion.IsCanceled, "the task ends as cancelled");
            T.Equal(0, XoTracker.ActiveCount, "GCHandle freed");
            var seen = events;
            sim.SetStatus(770, "done");
            T.PumpFor(400);
            T.Equal(seen, events, "no event after the token's Cancel returned");

            // A token cancelled before Track: the tracking ends at once, nothing is delivered.
            sim.AddOrder(771, "done");
            var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            var t2 = XoTracker.Track(771, token, cancelled.Token);
            var e2 = 0;
            t2.Finished += o => e2++;
            T.Check(t2.IsCancelled && t2.Completion.IsCanceled, "already-cancelled token: cancelled at once");
            T.PumpFor(300);
            T.Equal(0, e2, "and never finished");

            // Finishing first: cancelling the token afterwards changes nothing.
            sim.AddOrder(772, "done");
            var late = new CancellationTokenSource();
            var t3 = XoTracker.Track(772, token, late.Token);
            T.Check(T.PumpUntil(() => t3.IsFinished, 5000), "finished");
            late.Cancel();
            T.Check(!t3.IsCancelled && t3.Completion.Status == System.Threading.Tasks.TaskStatus.RanToCompletion,
                "cancel after the outcome is a no-op");

            // Cancelled from another thread while events are dispatched: no deadlock, no event after.
            for (var round = 0; round < 20; round++)
            {
                sim.AddOrder(780 + round, "new", "done", 20);
                var c = new CancellationTokenSource();
                var t = XoTracker.Track(780 + round, token, c.Token);
                var after = 0;
                var cancelledAt = 0;
                t.StatusChanged += s => { if (Volatile.Read(ref cancelledAt) != 0) after++; };
                var canceller = new Thread(() =>
                {
                    Thread.Sleep(round);
                    c.Cancel();
                    Volatile.Write(ref cancelledAt, 1);
                });
                canceller.Start();
                T.PumpUntil(() => t.IsFinished || t.IsCancelled, 5000);
                T.Check(canceller.Join(5000), "round " + round + ": the cancelling thread returned (no deadlock)");
                T.PumpFor(30);
                T.Equal(0, after, "round " + round + ": no event after Cancel returned");
            }
            T.Equal(0, XoTracker.ActiveCount, "all freed");
        }

        public static void TestDefaultLog(Sim sim, Func<XoConfig> config, string token)
        {
            var previous = Console.Error;
            var captured = new StringWriter();
            Console.SetError(TextWriter.Synchronized(captured));
            try
            {
                T.Equal(XoTracker.DefaultLogLevel, XoTracker.ConsoleLogLevel, "default Console level");
                T.Equal(LogLevel.Warn, XoTracker.DefaultLogLevel, "warnings and errors by default");
                XoTracker.Configure(config());
                sim.AddOrder(790, "new");
                var tracking = XoTracker.Track(790, token);
                T.Check(T.PumpUntil(() => tracking.Transport == TransportState.SocketConnected, 5000), "socket connected");
                T.Equal(200, sim.Post("/_sim/fault", "{\"fault\":\"centrifugo_close_all\",\"code\":3000,\"reason\":\"test\"}"), "socket closed");
                T.Check(T.PumpUntil(() => captured.ToString().Contains("xo-tracker Warn: socket lost"), 5000),
                    "a library warning reached standard error without a handler: " + captured);
                T.Check(!captured.ToString().Contains("xo-tracker Info:") && !captured.ToString().Contains("xo-tracker Debug:"),
                    "nothing below Warn by default");
                T.Check(!captured.ToString().Contains(token), "no token in the log");
                tracking.Cancel();

                XoTracker.ConsoleLogLevel = LogLevel.Debug; // the settings asset's log level
                sim.AddOrder(791, "done");
                var t2 = XoTracker.Track(791, token);
                T.Check(T.PumpUntil(() => t2.IsFinished, 5000), "finished");
                T.Check(captured.ToString().Contains("xo-tracker Debug:") || captured.ToString().Contains("xo-tracker Info:"),
                    "ConsoleLogLevel Debug forwards more");
                var lines = new List<string>();
                XoTracker.SetLogHandler((level, line) => lines.Add(line), LogLevel.Debug);
                var before = captured.ToString().Length;
                sim.AddOrder(792, "done");
                var t3 = XoTracker.Track(792, token);
                T.Check(T.PumpUntil(() => t3.IsFinished, 5000), "finished");
                T.Check(lines.Count > 0, "a handler replaces the default");
                T.Equal(before, captured.ToString().Length, "and nothing goes to standard error then");
                T.Throws<ArgumentOutOfRangeException>(() => XoTracker.ConsoleLogLevel = (LogLevel)0, "ConsoleLogLevel 0");
            }
            finally
            {
                XoTracker.SetLogHandler(null);
                XoTracker.ConsoleLogLevel = XoTracker.DefaultLogLevel;
                Console.SetError(previous);
            }
        }

        public static void TestIdleDispatchAllocatesNothing(Sim sim, Func<XoConfig> config, string token)
        {
            XoTracker.Configure(config());
            sim.AddOrder(796, "new");
            var tracking = XoTracker.Track(796, token);
            T.Check(T.PumpUntil(() => tracking.Transport == TransportState.SocketConnected, 5000), "socket connected");
            T.PumpFor(100);
            double ns;
            var bytes = Bench.IdleDispatchBytes(20000, out ns);
            T.Equal(0.0, bytes, "managed bytes per idle Dispatch (a live tracker, nothing pending; " + ns.ToString("0") + " ns/call)");
            tracking.Cancel();
        }

        public static void TestAppActiveAcrossShutdown(Sim sim, Func<XoConfig> config, string token)
        {
            // xo_shutdown puts the library back to active; the binding keeps the app's state and
            // the next Configure applies it: an app still in the background stays paused.
            XoTracker.Configure(config());
            XoTracker.SetAppActive(false);
            XoTracker.Shutdown();
            T.Check(!XoTracker.IsAppActive, "the binding's state survives Shutdown");
            XoTracker.Configure(config());
            sim.AddOrder(795, "done");
            var tracking = XoTracker.Track(795, token);
            T.PumpFor(600);
            T.Check(!tracking.IsFinished, "still paused after Shutdown + Configure");
            XoTracker.SetAppActive(true);
            T.Check(T.PumpUntil(() => tracking.IsFinished, 3000), "resumed");
        }
    }
}
