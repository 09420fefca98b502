using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>A minimal test harness: counted checks, bounded waits that pump the library.</summary>
    internal static class T
    {
        public static int Passed;
        public static int Failed;
        private static string s_current = "";

        public static void Check(bool condition, string what, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
        {
            if (condition)
            {
                Interlocked.Increment(ref Passed);
                return;
            }
            Interlocked.Increment(ref Failed);
            Console.Error.WriteLine("FAIL [" + s_current + "] " + System.IO.Path.GetFileName(file) + ":" + line + ": " + what);
        }

        public static void Equal<TValue>(TValue expected, TValue actual, string what, [CallerFilePath] string file = "",
            [CallerLineNumber] int line = 0)
        {
            Check(Equals(expected, actual), what + ": expected " + expected + ", got " + actual, file, line);
        }

        /// <summary>Checks that action throws TException; returns it (or null).</summary>
        public static TException Throws<TException>(Action action, string what, [CallerFilePath] string file = "",
            [CallerLineNumber] int line = 0) where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException e)
            {
                Check(true, what, file, line);
                return e;
            }
            catch (Exception e)
            {
                Check(false, what + ": threw " + e.GetType().Name + ": " + e.Message, file, line);
                return null;
            }
            Check(false, what + ": did not throw", file, line);
            return null;
        }

        /// <summary>Pumps the library on this thread until condition holds or ms pass.</summary>
        public static bool PumpUntil(Func<bool> condition, int ms)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                XoTracker.Dispatch();
                if (condition())
                    return true;
                if (watch.ElapsedMilliseconds > ms)
                    return false;
                Thread.Sleep(5);
            }
        }

        /// <summary>Pumps for ms (to show that nothing more arrives).</summary>
        public static void PumpFor(int ms)
        {
            PumpUntil(() => false, ms);
        }

        public static void Run(string name, Action test)
        {
            s_current = name;
            var before = Failed;
            var watch = Stopwatch.StartNew();
            try
            {
                test();
            }
            catch (Exception e)
            {
                Check(false, "unexpected exception: " + e);
            }
            finally
            {
                try
                {
                    XoTracker.Shutdown();
                }
                catch (Exception e)
                {
                    Check(false, "shutdown after the test: " + e);
                }
            }
            Console.WriteLine((Failed == before ? "ok   " : "FAIL ") + name + " (" + watch.ElapsedMilliseconds + " ms)");
        }
    }
}
