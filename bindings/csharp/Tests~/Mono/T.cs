using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Xo.Tracker.Tests
{
    /// <summary>
    /// A minimal test harness: checks, tests counted once each (a test passes when every check in it
    /// holds), declaration checks counted apart, bounded waits that pump the library.
    /// </summary>
    internal static class T
    {
        /// <summary>Checks that held / failed (all kinds): a test fails when Failed grows during it.</summary>
        public static int Passed;
        public static int Failed;
        /// <summary>Tests (behaviour) that passed / failed: the suite's summary line.</summary>
        public static int TestsPassed;
        public static int TestsFailed;
        /// <summary>Declaration checks (header vs P/Invoke, package files): reported on their own line.</summary>
        public static int DeclarationsPassed;
        public static int DeclarationsFailed;
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

        /// <summary>Runs a group of declaration checks: each check counts on the declaration line, none as a test.</summary>
        public static void RunDeclarations(string name, Action checks)
        {
            int passedBefore = Passed, failedBefore = Failed;
            Execute(name, checks);
            DeclarationsPassed += Passed - passedBefore;
            DeclarationsFailed += Failed - failedBefore;
        }

        /// <summary>Runs one test: counted once, however many checks it makes.</summary>
        public static void Run(string name, Action test)
        {
            if (Execute(name, test))
                TestsPassed++;
            else
                TestsFailed++;
        }

        private static bool Execute(string name, Action test)
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
            return Failed == before;
        }
    }
}
