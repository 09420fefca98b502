using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using AOT;

namespace Xo.Tracker
{
    /// <summary>
    /// Tracks Xsolla store orders until they are delivered.
    /// <code>
    /// XoTracker.Configure(new XoConfig { ProjectId = 123456 });
    /// var tracking = XoTracker.Track(orderId, userToken);
    /// tracking.Finished += outcome => { if (outcome.IsDone) GrantItems(outcome.Contents.Items); };
    /// </code>
    /// The library runs in queued mode: events wait until <see cref="Dispatch"/> runs them on the
    /// calling thread. In Unity a hidden DontDestroyOnLoad object calls it every frame, so every
    /// event and task continuation runs on the main thread; elsewhere call Dispatch yourself.
    /// Methods may be called from any thread unless noted.
    /// </summary>
    public static partial class XoTracker
    {
        private static readonly object s_lock = new object();
        private static readonly object s_initLock = new object(); // never held while native code runs callbacks
        private static readonly Dictionary<IntPtr, NativeRequest> s_live = new Dictionary<IntPtr, NativeRequest>();
        private static readonly Queue<KeyValuePair<LogLevel, string>> s_logQueue = new Queue<KeyValuePair<LogLevel, string>>();
        private const int MaxQueuedLogLines = 1024;

        /// <summary>Without a handler, lines up to this level go to the Console (as the Unreal plugin does).</summary>
        public const LogLevel DefaultLogLevel = LogLevel.Warn;

        // Native code holds these function pointers: static fields keep the delegates alive for
        // the process, and the targets are static [MonoPInvokeCallback] methods (IL2CPP requires it).
        private static readonly NativeMethods.xo_event_callback s_eventCallback = OnNativeEvent;
        private static readonly NativeMethods.xo_log_callback s_logCallback = OnNativeLog;

        private static volatile bool s_nativeUsed;
        private static volatile bool s_configured;
        private static volatile bool s_appActive = true;
        private static Action<LogLevel, string> s_logHandler; // null: the default (Console / Unity Console)
        private static LogLevel s_logLevel = LogLevel.Info; // the handler's
        private static LogLevel s_consoleLogLevel = DefaultLogLevel; // without a handler
        private static long s_handlesAllocated;
        private static long s_handlesFreed;

        /// <summary>
        /// An exception thrown by one of your event handlers (or the log handler). Handlers never
        /// propagate exceptions into the library; without a subscriber they are logged
        /// (Debug.LogException in Unity, standard error elsewhere).
        /// </summary>
        public static event Action<Exception> HandlerException;

        /// <summary>The native library's version, e.g. "0.1.0".</summary>
        public static string Version
        {
            get { return Utf8.FromNative(NativeMethods.xo_version()); }
        }

        /// <summary>The C ABI version of the loaded native library.</summary>
        public static uint NativeAbiVersion
        {
            get { return NativeMethods.xo_abi_version(); }
        }

        /// <summary>The C ABI version this binding was written for.</summary>
        public static uint BindingAbiVersion
        {
            get { return NativeMethods.XO_ABI_VERSION; }
        }

        /// <summary>
        /// False on WebGL players (no native threads or sockets): there every call that needs the
        /// library throws PlatformNotSupportedException, and the lifecycle calls the package makes
        /// by itself (Shutdown, Dispatch, SetAppActive, NetworkChanged) do nothing.
        /// </summary>
        public static bool IsSupported
        {
#if UNITY_WEBGL && !UNITY_EDITOR
            get { return false; }
#else
            get { return true; }
#endif
        }

        /// <summary>True between a successful Configure and Shutdown.</summary>
        public static bool IsConfigured
        {
            get { return s_configured; }
        }

        /// <summary>Trackers and checks that are still running (each holds one GCHandle).</summary>
        public static int ActiveCount
        {
            get { lock (s_lock) return s_live.Count; }
        }

        /// <summary>
        /// Configures the library (queued delivery). Call it once before tracking, and again after
        /// <see cref="Shutdown"/>. In Unity call it from the main thread: it creates the pump object.
        /// </summary>
        /// <exception cref="XoArgumentException">a field is out of range (the library's message).</exception>
        /// <exception cref="XoException">Busy: trackers are running; or the native library does not match.</exception>
        public static void Configure(XoConfig config)
        {
            if (config == null)
                throw new ArgumentNullException("config");
            EnsureNative();
            AndroidTrust.Init();
            var abi = NativeMethods.xo_abi_version();
            if (abi != NativeMethods.XO_ABI_VERSION)
                throw new XoException(XoResult.Internal, "the native xo_tracker library implements C ABI " + abi +
                    " but this binding needs " + NativeMethods.XO_ABI_VERSION + ": install matching versions");

            var native = new NativeMethods.xo_config
            {
                struct_size = (uint)Marshal.SizeOf(typeof(NativeMethods.xo_config)),
                transport = (int)config.Transport,
                project_id = config.ProjectId,
                delivery = (int)Delivery.Queued,
                poll_interval_ms = Millis(config.PollIntervalMs, "PollIntervalMs"),
                socket_reestablish_ms = Millis(config.SocketReestablishMs, "SocketReestablishMs"),
                polling_deadline_ms = Millis(config.PollingDeadlineMs, "PollingDeadlineMs"),
                overall_deadline_ms = Millis(config.OverallDeadlineMs, "OverallDeadlineMs"),
                token_wait_ms = Millis(config.TokenWaitMs, "TokenWaitMs"),
                request_timeout_ms = Millis(config.RequestTimeoutMs, "RequestTimeoutMs"),
                backoff_min_ms = Millis(config.BackoffMinMs, "BackoffMinMs"),
                backoff_max_ms = Millis(config.BackoffMaxMs, "BackoffMaxMs"),
                worker_threads = Millis(config.WorkerThreads, "WorkerThreads"),
                allow_insecure_loopback = config.AllowInsecureLoopback ? 1u : 0u,
                restore_from_xsolla = config.RestoreFromXsolla ? 1u : 0u,
                restore_interval_ms = Millis(config.RestoreIntervalMs, "RestoreIntervalMs"),
            };
            var journalDir = EmptyToNull(config.JournalDir);
            if (journalDir == null && config.UseJournal)
                DefaultJournalDir(ref journalDir);
            if (!config.UseJournal)
                journalDir = null;
            try
            {
                native.centrifugo_url = Utf8.Alloc(EmptyToNull(config.CentrifugoUrl));
                native.legacy_socket_url = Utf8.Alloc(EmptyToNull(config.LegacySocketUrl));
                native.api_base_url = Utf8.Alloc(EmptyToNull(config.ApiBaseUrl));
                native.proxy_url = Utf8.Alloc(EmptyToNull(config.Proxy));
                native.ca_bundle_pem = Utf8.Alloc(EmptyToNull(config.CaBundlePem));
                native.ca_bundle_file = Utf8.Alloc(EmptyToNull(config.CaBundleFile));
                native.journal_dir = Utf8.Alloc(journalDir);
                native.events_api_url = Utf8.Alloc(EmptyToNull(config.EventsApiUrl));
                var result = NativeMethods.xo_configure(ref native); // copies the strings
                if (result != XoResult.Ok)
                    throw Failure((long)result, "config");
            }
            finally
            {
                FreeIfSet(native.centrifugo_url);
                FreeIfSet(native.legacy_socket_url);
                FreeIfSet(native.api_base_url);
                FreeIfSet(native.proxy_url);
                FreeIfSet(native.ca_bundle_pem);
                FreeIfSet(native.ca_bundle_file);
                FreeIfSet(native.journal_dir);
                FreeIfSet(native.events_api_url);
            }
            s_configured = true;
            // xo_shutdown resets the library to active, but the app may still be in the background
            // (a Shutdown and Configure while paused): hand the library what this binding knows.
            NativeMethods.xo_set_app_active(s_appActive ? 1 : 0);
            InstallLogCallback();
            OnConfigured();
        }

        /// <summary>Configures with the production endpoints and defaults for a project.</summary>
        public static void Configure(long projectId)
        {
            Configure(new XoConfig { ProjectId = projectId });
        }

        /// <summary>
        /// Starts tracking an order until it is delivered, canceled, expired, or tracking gives up.
        /// The token (the user's Xsolla Login JWT or the payment token) is copied.
        /// </summary>
        /// <exception cref="XoArgumentException">order id not positive, token null, empty, too long.</exception>
        /// <exception cref="XoException">NotConfigured: call Configure first.</exception>
        public static OrderTracking Track(long orderId, string token)
        {
            return Track(orderId, token, CancellationToken.None);
        }

        /// <summary>
        /// As <see cref="Track(long, string)"/>, cancelled when cancellationToken is (e.g. a
        /// MonoBehaviour's destroyCancellationToken): the tracking is cancelled, its task ends as
        /// cancelled and no event of it runs after the token's Cancel returns.
        /// </summary>
        public static OrderTracking Track(long orderId, string token, CancellationToken cancellationToken)
        {
            var tracking = new OrderTracking(orderId);
            Start(tracking.Native, token, false);
            tracking.CancelWhen(cancellationToken);
            return tracking;
        }

        /// <summary>
        /// Purchase journal: tracks the user's unfinished orders again and delivers every done
        /// order not acknowledged yet (Origin.Redelivered; with RestoreFromXsolla, purchases this
        /// device never saw arrive later as Origin.Restored) through the returned object's
        /// <see cref="ResumedPurchases.Finished"/>. Call it once at start, after sign-in; grant,
        /// then <see cref="OrderOutcome.Acknowledge"/>. Without a journal nothing is resumed.
        /// </summary>
        public static ResumedPurchases ResumePending(string token)
        {
            EnsureNative();
            var tokenBytes = Utf8.ToNative(token);
            var resumed = new ResumedPurchases();
            var request = resumed.Native;
            request.Allocate();
            Interlocked.Increment(ref s_handlesAllocated);
            lock (s_lock)
                s_live.Add(request.Userdata, request);
            int count;
            try
            {
                count = NativeMethods.xo_resume_pending(tokenBytes, s_eventCallback, request.Userdata);
            }
            catch
            {
                request.Release();
                throw;
            }
            if (count < 0)
            {
                var error = Failure(count, "token");
                request.Release();
                throw error;
            }
            resumed.Count = count;
            return resumed;
        }

        /// <summary>
        /// The game granted a done order's items: never deliver it again (see
        /// <see cref="OrderOutcome.Acknowledge"/>). Returns Ok, UnknownOrder or JournalUnavailable.
        /// </summary>
        public static XoResult Acknowledge(long orderId)
        {
            if (orderId <= 0)
                throw new ArgumentOutOfRangeException("orderId", orderId, "order ids are positive");
            EnsureNative();
            var result = NativeMethods.xo_acknowledge(orderId);
            if (result == XoResult.NotConfigured || result == XoResult.InvalidArgument)
                throw Failure((long)result, "orderId");
            return result;
        }

        /// <summary>Ok while the journal writes to disk; otherwise why not (in <see cref="JournalProblem"/>).</summary>
        public static XoResult JournalStatus
        {
            get
            {
                EnsureNative();
                var result = NativeMethods.xo_journal_status();
                JournalProblem = result == XoResult.Ok ? null : Utf8.FromNative(NativeMethods.xo_last_error());
                return result;
            }
        }

        /// <summary>The reason of the last non-Ok <see cref="JournalStatus"/>, or null.</summary>
        public static string JournalProblem { get; private set; }

        /// <summary>Unity: the default journal folder (under Application.persistentDataPath).</summary>
        static partial void DefaultJournalDir(ref string dir);

        /// <summary>
        /// Asks once for an order's status and contents. The task completes with an OrderOutcome
        /// whose Outcome is None while the order is not final, or says why the check failed
        /// (NotFound, Unauthorized, Failed...). Cancelling the token cancels the request.
        /// Argument errors are thrown at once, not through the task.
        /// </summary>
        public static Task<OrderOutcome> CheckOrderAsync(long orderId, string token,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var check = new OrderCheck(orderId);
            Start(check, token, true);
            check.CancelWhen(cancellationToken);
            return check.Task;
        }

        /// <summary>
        /// Runs up to maxEvents pending events on the calling thread and returns how many ran.
        /// Unity's pump calls it every frame; other hosts call it from their main loop.
        /// </summary>
        /// <exception cref="XoException">InCallback: called from inside an event handler.</exception>
        public static int Dispatch(int maxEvents = 256)
        {
            if (maxEvents < 0)
                throw new ArgumentOutOfRangeException("maxEvents");
            if (!s_nativeUsed)
                return 0;
            var ran = NativeMethods.xo_dispatch((uint)maxEvents);
            if (ran < 0)
                throw Failure(ran, null);
            FlushLog();
            return ran;
        }

        /// <summary>
        /// Cancels every tracker and check (their tasks end as cancelled, no more events), stops
        /// the library's threads (at most 2 s) and clears the configuration. Idempotent. Call
        /// Configure again to track again. Not allowed from inside an event handler.
        /// In Unity it runs by itself on quit, when leaving play mode, and before a domain reload.
        /// </summary>
        public static void Shutdown()
        {
            if (s_nativeUsed)
            {
                var result = NativeMethods.xo_shutdown();
                if (result == XoResult.InCallback)
                    throw Failure((long)result, null);
                NativeMethods.xo_set_log_callback(null, IntPtr.Zero, (int)LogLevel.Error);
            }
            s_configured = false;
            // xo_shutdown returned: no callback runs any more, so every GCHandle can go.
            NativeRequest[] live;
            lock (s_lock)
            {
                live = new NativeRequest[s_live.Count];
                s_live.Values.CopyTo(live, 0);
                s_logQueue.Clear();
            }
            foreach (var request in live)
            {
                try
                {
                    request.Abandon();
                }
                catch (Exception e)
                {
                    ReportHandlerException(e);
                }
            }
        }

        /// <summary>
        /// Tells the library whether the app is in the foreground. false: sockets close, polling
        /// stops, deadlines freeze (a paused mobile app must not burn battery or be killed for it).
        /// true: every tracked order is checked at once, then sockets reconnect.
        /// The Unity pump calls it from OnApplicationPause/OnApplicationFocus.
        /// </summary>
        public static void SetAppActive(bool active)
        {
            s_appActive = active; // applied by the next Configure if the library is not in use yet
            if (!s_nativeUsed)
                return;
            var result = NativeMethods.xo_set_app_active(active ? 1 : 0);
            if (result != XoResult.Ok && result != XoResult.NotConfigured)
                throw Failure((long)result, null);
        }

        /// <summary>
        /// Connectivity came back (or changed): check every order now and reconnect sockets
        /// without waiting out the backoff.
        /// </summary>
        public static void NetworkChanged()
        {
            if (!s_nativeUsed)
                return;
            var result = NativeMethods.xo_network_changed();
            if (result != XoResult.Ok && result != XoResult.NotConfigured)
                throw Failure((long)result, null);
        }

        /// <summary>
        /// Receives the library's log lines (never containing tokens) up to maxLevel, on the thread
        /// that calls Dispatch (lines are queued, at most 1024). null restores the default: lines
        /// up to <see cref="ConsoleLogLevel"/> (Warn) go to the Unity Console (Debug.LogWarning /
        /// LogError), or to standard error outside Unity. To silence the library, pass a handler
        /// that ignores the lines.
        /// </summary>
        public static void SetLogHandler(Action<LogLevel, string> handler, LogLevel maxLevel = LogLevel.Info)
        {
            if (maxLevel < LogLevel.Error || maxLevel > LogLevel.Debug)
                throw new ArgumentOutOfRangeException("maxLevel");
            lock (s_lock)
            {
                s_logHandler = handler;
                s_logLevel = maxLevel;
            }
            if (s_configured)
                InstallLogCallback();
        }

        /// <summary>
        /// Without a log handler, library lines up to this level go to the Console (default
        /// <see cref="DefaultLogLevel"/>: warnings and errors). The settings asset sets it.
        /// </summary>
        public static LogLevel ConsoleLogLevel
        {
            get { return s_consoleLogLevel; }
            set
            {
                if (value < LogLevel.Error || value > LogLevel.Debug)
                    throw new ArgumentOutOfRangeException("value");
                lock (s_lock)
                    s_consoleLogLevel = value;
                if (s_configured)
                    InstallLogCallback();
            }
        }

        /// <summary>
        /// The last state given to SetAppActive (true until then, and at the start of each Unity
        /// play session). xo_shutdown puts the library itself back to active; this state survives
        /// Shutdown and is handed to the library by the next Configure, so an app still in the
        /// background stays paused.
        /// </summary>
        public static bool IsAppActive
        {
            get { return s_appActive; }
        }

        // ---- internals -------------------------------------------------------------------------

        internal static long HandlesAllocated
        {
            get { return Interlocked.Read(ref s_handlesAllocated); }
        }

        internal static long HandlesFreed
        {
            get { return Interlocked.Read(ref s_handlesFreed); }
        }

        /// <summary>Called on the first use in this domain: leaves nothing of an earlier domain running.</summary>
        private static void EnsureNative()
        {
            if (s_nativeUsed)
                return;
            lock (s_initLock)
            {
                if (s_nativeUsed)
                    return;
                // The native library outlives Unity domain reloads; a previous domain that did not
                // shut down (a crash in its hooks) would otherwise call into unloaded code.
                NativeMethods.xo_shutdown();
                NativeMethods.xo_set_log_callback(null, IntPtr.Zero, (int)LogLevel.Error);
                s_nativeUsed = true;
            }
        }

        private static void Start(NativeRequest request, string token, bool check)
        {
            EnsureNative();
            var tokenBytes = Utf8.ToNative(token);
            request.Allocate();
            Interlocked.Increment(ref s_handlesAllocated);
            lock (s_lock)
                s_live.Add(request.Userdata, request);
            long handle;
            try
            {
                handle = check
                    ? NativeMethods.xo_check_order(request.OrderId, tokenBytes, s_eventCallback, request.Userdata)
                    : NativeMethods.xo_track_order(request.OrderId, tokenBytes, s_eventCallback, request.Userdata);
            }
            catch
            {
                request.Release(); // e.g. DllNotFoundException
                throw;
            }
            if (handle <= 0)
            {
                var error = Failure(handle, null); // reads xo_last_error before anything else
                request.Release();
                throw error;
            }
            request.SetHandle(handle);
        }

        internal static void UpdateToken(long handle, string token)
        {
            EnsureNative();
            var result = NativeMethods.xo_update_token(handle, Utf8.ToNative(token));
            if (result != XoResult.Ok)
                throw Failure((long)result, null);
        }

        internal static void CancelHandle(long handle)
        {
            if (s_nativeUsed)
                NativeMethods.xo_cancel(handle);
        }

        internal static void Unregister(NativeRequest request)
        {
            lock (s_lock)
                s_live.Remove(request.Userdata);
        }

        internal static void CountFree()
        {
            Interlocked.Increment(ref s_handlesFreed);
        }

        /// <summary>The exception for a failed call; call right after it (xo_last_error is per thread).</summary>
        private static Exception Failure(long code, string paramName)
        {
            var result = (XoResult)(int)code;
            var message = Utf8.FromNative(NativeMethods.xo_last_error());
            if (string.IsNullOrEmpty(message))
                message = Utf8.FromNative(NativeMethods.xo_result_string((int)code));
            switch (result)
            {
                case XoResult.NullArgument:
                case XoResult.InvalidArgument:
                case XoResult.InvalidUtf8:
                    return new XoArgumentException(result, message, paramName ?? GuessParameter(message));
                default:
                    return new XoException(result, message);
            }
        }

        private static string GuessParameter(string message)
        {
            if (message.StartsWith("order_id", StringComparison.Ordinal))
                return "orderId";
            if (message.StartsWith("token", StringComparison.Ordinal))
                return "token";
            return null;
        }

        private static uint Millis(int value, string name)
        {
            if (value < 0)
                throw new ArgumentOutOfRangeException(name, value, name + " must not be negative");
            return (uint)value;
        }

        private static string EmptyToNull(string s)
        {
            return string.IsNullOrEmpty(s) ? null : s;
        }

        private static void FreeIfSet(IntPtr p)
        {
            if (p != IntPtr.Zero)
                Marshal.FreeHGlobal(p);
        }

        private static void InstallLogCallback()
        {
            LogLevel level;
            lock (s_lock)
                level = s_logHandler != null ? s_logLevel : s_consoleLogLevel;
            NativeMethods.xo_set_log_callback(s_logCallback, IntPtr.Zero, (int)level);
        }

        internal static OrderOutcome ToOutcome(ref NativeMethods.xo_event e)
        {
            return new OrderOutcome(e.order_id, e.outcome, e.status, Utf8.FromNative(e.status_raw), e.error_code,
                e.http_status, Utf8.FromNative(e.message), Utf8.FromNative(e.contents_json),
                OrderContents.FromNative(e.contents), (Origin)e.origin);
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xo_event_callback))]
        private static void OnNativeEvent(IntPtr userdata, IntPtr eventPtr)
        {
            // Never let an exception cross into native code (fatal under IL2CPP).
            try
            {
                NativeRequest request;
                lock (s_lock)
                {
                    if (!s_live.TryGetValue(userdata, out request))
                        return; // released: nothing may reach it any more
                }
                // The GCHandle is the userdata; the table above only guards against a stale pointer.
                var target = GCHandle.FromIntPtr(userdata).Target as NativeRequest;
                if (!ReferenceEquals(target, request))
                    return;
                var e = ReadEvent(eventPtr);
                if (e.handle > 0)
                    request.SetHandle(e.handle);
                try
                {
                    request.Deliver(ref e);
                }
                finally
                {
                    // The library never calls back after a final event: the GCHandle must go now.
                    // Deliver normally released it (then this does nothing); if Deliver failed
                    // before, this frees it and ends the task as cancelled rather than never.
                    if ((e.kind == EventKind.Final || e.kind == EventKind.CheckResult) && !request.ServesManyHandles)
                        request.Abandon();
                }
            }
            catch (Exception ex)
            {
                ReportHandlerException(ex);
            }
        }

        private static NativeMethods.xo_event ReadEvent(IntPtr eventPtr)
        {
            return NativeStruct.Read<NativeMethods.xo_event>(eventPtr);
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xo_log_callback))]
        private static void OnNativeLog(IntPtr userdata, int level, IntPtr message)
        {
            // Any library thread: only queue; Dispatch hands the lines to the handler.
            try
            {
                var line = Utf8.FromNative(message) ?? "";
                lock (s_lock)
                {
                    if (s_logQueue.Count >= MaxQueuedLogLines)
                        s_logQueue.Dequeue();
                    s_logQueue.Enqueue(new KeyValuePair<LogLevel, string>((LogLevel)level, line));
                }
            }
            catch
            {
                // nothing may escape into native code
            }
        }

        private static void FlushLog()
        {
            while (true)
            {
                Action<LogLevel, string> handler;
                KeyValuePair<LogLevel, string> line;
                lock (s_lock)
                {
                    if (s_logQueue.Count == 0)
                        return;
                    line = s_logQueue.Dequeue();
                    handler = s_logHandler;
                }
                try
                {
                    if (handler != null)
                        handler(line.Key, line.Value);
                    else
                        LogToConsole(line.Key, line.Value);
                }
                catch (Exception e)
                {
                    ReportHandlerException(e);
                }
            }
        }

        internal static void Invoke<T>(Action<T> handlers, T arg)
        {
            if (handlers == null)
                return;
            foreach (var d in handlers.GetInvocationList())
            {
                try
                {
                    ((Action<T>)d)(arg);
                }
                catch (Exception e)
                {
                    ReportHandlerException(e);
                }
            }
        }

        internal static void Invoke(Action handlers)
        {
            if (handlers == null)
                return;
            foreach (var d in handlers.GetInvocationList())
            {
                try
                {
                    ((Action)d)();
                }
                catch (Exception e)
                {
                    ReportHandlerException(e);
                }
            }
        }

        internal static void ReportHandlerException(Exception e)
        {
            var handlers = HandlerException;
            if (handlers != null)
            {
                foreach (var d in handlers.GetInvocationList())
                {
                    try
                    {
                        ((Action<Exception>)d)(e);
                    }
                    catch
                    {
                        // a failing error handler must not take the pump down
                    }
                }
                return;
            }
            LogUnhandled(e);
        }

        /// <summary>Unity: creates the pump and registers the lifecycle hooks (XoTrackerUnity.cs).</summary>
        static partial void OnConfigured();

        static partial void LogUnhandledUnity(Exception e, ref bool handled);

        static partial void LogToConsoleUnity(LogLevel level, string line, ref bool handled);

        /// <summary>The default log handler: Unity's Console in Unity, standard error elsewhere.</summary>
        private static void LogToConsole(LogLevel level, string line)
        {
            var handled = false;
            LogToConsoleUnity(level, line, ref handled);
            if (!handled)
                Console.Error.WriteLine("xo-tracker " + level + ": " + line);
        }

        /// <summary>
        /// Puts every static field of the binding back to its initial value (after Shutdown). Unity
        /// calls it at the start of each play session: with domain reload disabled, statics (event
        /// subscribers, the log handler, counters) would otherwise survive from the last session.
        /// The test suite checks by reflection that it covers every static field.
        /// </summary>
        internal static void ResetStatics()
        {
            lock (s_lock)
            {
                s_live.Clear();
                s_logQueue.Clear();
                s_logHandler = null;
                s_logLevel = LogLevel.Info;
                s_consoleLogLevel = DefaultLogLevel;
            }
            s_nativeUsed = false;
            s_configured = false;
            s_appActive = true; // a session starts in the foreground (Configure tells the library)
            Interlocked.Exchange(ref s_handlesAllocated, 0);
            Interlocked.Exchange(ref s_handlesFreed, 0);
            HandlerException = null;
            JournalProblem = null;
            AndroidTrust.ResetStatics();
            ResetUnityStatics();
        }

        static partial void ResetUnityStatics();

        private static void LogUnhandled(Exception e)
        {
            var handled = false;
            LogUnhandledUnity(e, ref handled);
            if (!handled)
                Console.Error.WriteLine("xo-tracker: an event handler threw: " + e);
        }
    }
}
