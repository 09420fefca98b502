using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Xo.Tracker
{
    /// <summary>
    /// One tracked order, returned by <see cref="XoTracker.Track"/>. Its events run on the thread
    /// that pumps the library (Unity's main thread), never before the next pump, so subscribing
    /// right after Track misses nothing. <see cref="Finished"/> is raised exactly once, unless the
    /// tracking is cancelled first; <see cref="Completion"/> then ends as cancelled.
    /// You need not keep a reference: the tracking stays alive until it finishes or is cancelled.
    /// </summary>
    public sealed class OrderTracking : IDisposable
    {
        private readonly object _gate = new object();
        private readonly Request _request;
        private readonly TaskCompletionSource<OrderOutcome> _completion =
            new TaskCompletionSource<OrderOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        private Action<OrderStatus> _statusChanged;
        private Action<TransportChange> _transportChanged;
        private Action _tokenExpired;
        private Action<OrderOutcome> _finished;
        private OrderOutcome _outcome;
        private volatile bool _cancelled;
        private volatile OrderStatus _status;
        private volatile string _statusRaw = "";
        private volatile TransportState _transport;
        private CancellationTokenRegistration _registration;

        internal OrderTracking(long orderId)
        {
            _request = new Request(orderId, this);
        }

        /// <summary>The order.</summary>
        public long OrderId
        {
            get { return _request.OrderId; }
        }

        /// <summary>The library's handle for this tracking (&gt; 0).</summary>
        public long Handle
        {
            get { return _request.Handle; }
        }

        internal NativeRequest Native
        {
            get { return _request; }
        }

        /// <summary>The order's status changed (see also <see cref="StatusRaw"/>).</summary>
        public event Action<OrderStatus> StatusChanged
        {
            add { lock (_gate) _statusChanged += value; }
            remove { lock (_gate) _statusChanged -= value; }
        }

        /// <summary>The transport changed (socket connected, fell back to polling, restored...).</summary>
        public event Action<TransportChange> TransportChanged
        {
            add { lock (_gate) _transportChanged += value; }
            remove { lock (_gate) _transportChanged -= value; }
        }

        /// <summary>The token was refused: call <see cref="UpdateToken"/> with a fresh one in time.</summary>
        public event Action TokenExpired
        {
            add { lock (_gate) _tokenExpired += value; }
            remove { lock (_gate) _tokenExpired -= value; }
        }

        /// <summary>
        /// The order's outcome, exactly once. Grant items only if <see cref="OrderOutcome.IsDone"/>.
        /// A handler added after the outcome is known runs at once, on the subscribing thread.
        /// </summary>
        public event Action<OrderOutcome> Finished
        {
            add
            {
                OrderOutcome known;
                lock (_gate)
                {
                    known = _outcome;
                    if (known == null)
                        _finished += value;
                }
                if (known != null)
                    XoTracker.Invoke(value, known);
            }
            remove { lock (_gate) _finished -= value; }
        }

        /// <summary>Completes with the outcome; cancelled if the tracking is cancelled or shut down.</summary>
        public Task<OrderOutcome> Completion
        {
            get { return _completion.Task; }
        }

        /// <summary>The latest known status.</summary>
        public OrderStatus Status
        {
            get { return _status; }
        }

        /// <summary>The latest status exactly as Xsolla sent it ("" if none).</summary>
        public string StatusRaw
        {
            get { return _statusRaw; }
        }

        /// <summary>The latest transport state.</summary>
        public TransportState Transport
        {
            get { return _transport; }
        }

        /// <summary>The outcome once finished, else null.</summary>
        public OrderOutcome Outcome
        {
            get { lock (_gate) return _outcome; }
        }

        /// <summary>True once the outcome is known.</summary>
        public bool IsFinished
        {
            get { return Outcome != null; }
        }

        /// <summary>True if cancelled (or shut down) before an outcome.</summary>
        public bool IsCancelled
        {
            get { return _cancelled; }
        }

        /// <summary>Lets you write <c>var outcome = await tracking;</c>.</summary>
        public TaskAwaiter<OrderOutcome> GetAwaiter()
        {
            return _completion.Task.GetAwaiter();
        }

        /// <summary>Gives the tracker a fresh token (after <see cref="TokenExpired"/>, or ahead of expiry).</summary>
        /// <exception cref="XoArgumentException">null, empty or too long token.</exception>
        /// <exception cref="XoException">the tracking already ended (UnknownHandle).</exception>
        public void UpdateToken(string token)
        {
            XoTracker.UpdateToken(Handle, token);
        }

        /// <summary>
        /// Stops tracking. No event of this tracking runs after Cancel returns (from a handler of
        /// this tracking, the current handler simply finishes). Idempotent; does nothing once finished.
        /// </summary>
        public void Cancel()
        {
            if (IsFinished)
                return;
            if (_request.CancelNative())
            {
                _cancelled = true;
                _completion.TrySetCanceled();
            }
            EndRegistration();
        }

        /// <summary>Same as <see cref="Cancel"/>.</summary>
        public void Dispose()
        {
            Cancel();
        }

        /// <summary>Cancels this tracking when the token is cancelled (at once if it already is).</summary>
        internal void CancelWhen(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
                return;
            var registration = cancellationToken.Register(Cancel);
            lock (_gate)
            {
                if (_request.IsReleased)
                {
                    Registrations.DisposeLater(registration);
                    return;
                }
                _registration = registration;
            }
        }

        private void EndRegistration()
        {
            CancellationTokenRegistration registration;
            lock (_gate)
            {
                registration = _registration;
                _registration = default(CancellationTokenRegistration);
            }
            Registrations.DisposeLater(registration);
        }

        private void Abandon()
        {
            if (_request.Release())
            {
                _cancelled = true;
                _completion.TrySetCanceled();
            }
            EndRegistration();
        }

        private void Deliver(ref NativeMethods.xo_event e)
        {
            switch (e.kind)
            {
                case EventKind.StatusChanged:
                {
                    _statusRaw = Utf8.FromNative(e.status_raw) ?? "";
                    _status = e.status;
                    Action<OrderStatus> handlers;
                    lock (_gate) handlers = _statusChanged;
                    XoTracker.Invoke(handlers, e.status);
                    break;
                }
                case EventKind.TransportChanged:
                {
                    _transport = e.transport_state;
                    var change = new TransportChange(e.transport_state, e.error_code, e.http_status,
                        Utf8.FromNative(e.message) ?? "");
                    Action<TransportChange> handlers;
                    lock (_gate) handlers = _transportChanged;
                    XoTracker.Invoke(handlers, change);
                    break;
                }
                case EventKind.TokenExpired:
                {
                    Action handlers;
                    lock (_gate) handlers = _tokenExpired;
                    XoTracker.Invoke(handlers);
                    break;
                }
                case EventKind.Final:
                case EventKind.CheckResult:
                {
                    var outcome = XoTracker.ToOutcome(ref e);
                    _status = e.status;
                    Action<OrderOutcome> handlers;
                    lock (_gate)
                    {
                        if (_outcome != null)
                            return; // the library promises one final event; never report two
                        _outcome = outcome;
                        handlers = _finished;
                        _finished = null;
                    }
                    // The library will not call back for this handle again: free the GCHandle
                    // before user code runs, so a throwing handler cannot leak it.
                    _request.Release();
                    EndRegistration();
                    XoTracker.Invoke(handlers, outcome);
                    _completion.TrySetResult(outcome);
                    break;
                }
            }
        }

        /// <summary>The native side: owns the GCHandle that native code holds as userdata.</summary>
        private sealed class Request : NativeRequest
        {
            private readonly OrderTracking _owner;

            public Request(long orderId, OrderTracking owner)
                : base(orderId)
            {
                _owner = owner;
            }

            internal override void Deliver(ref NativeMethods.xo_event e)
            {
                _owner.Deliver(ref e);
            }

            internal override void Abandon()
            {
                _owner.Abandon();
            }
        }

        public override string ToString()
        {
            return "OrderTracking(order " + OrderId + ", handle " + Handle + ", " + Status +
                   (IsFinished ? ", finished" : IsCancelled ? ", cancelled" : "") + ")";
        }
    }

    /// <summary>A one-shot check (XoTracker.CheckOrderAsync).</summary>
    internal sealed class OrderCheck : NativeRequest
    {
        private readonly TaskCompletionSource<OrderOutcome> _completion =
            new TaskCompletionSource<OrderOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        private CancellationTokenRegistration _registration;

        internal OrderCheck(long orderId)
            : base(orderId)
        {
        }

        public Task<OrderOutcome> Task
        {
            get { return _completion.Task; }
        }

        internal void CancelWhen(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
                _registration = cancellationToken.Register(Cancel);
        }

        private void Cancel()
        {
            if (CancelNative())
            {
                Registrations.DisposeLater(_registration);
                _completion.TrySetCanceled();
            }
        }

        internal override void Abandon()
        {
            if (Release())
            {
                Registrations.DisposeLater(_registration);
                _completion.TrySetCanceled();
            }
        }

        internal override void Deliver(ref NativeMethods.xo_event e)
        {
            if (e.kind != EventKind.CheckResult && e.kind != EventKind.Final)
                return;
            var outcome = XoTracker.ToOutcome(ref e);
            if (Release())
            {
                Registrations.DisposeLater(_registration);
                _completion.TrySetResult(outcome);
            }
        }
    }

    /// <summary>Ends CancellationToken registrations without waiting inside a library callback.</summary>
    internal static class Registrations
    {
        private static readonly WaitCallback s_dispose = DisposeNow;

        /// <summary>
        /// Disposes a registration on the thread pool. Disposing waits for a cancel callback that
        /// runs on another thread, and that callback (xo_cancel) waits for the library callback we
        /// may be in: disposing here could deadlock.
        /// </summary>
        internal static void DisposeLater(CancellationTokenRegistration registration)
        {
            if (registration.Equals(default(CancellationTokenRegistration)))
                return;
            ThreadPool.QueueUserWorkItem(s_dispose, registration);
        }

        private static void DisposeNow(object registration)
        {
            ((CancellationTokenRegistration)registration).Dispose();
        }
    }

    /// <summary>
    /// What <see cref="XoTracker.ResumePending"/> found: <see cref="Finished"/> runs once per
    /// resumed, redelivered or restored order (see <see cref="OrderOutcome.Origin"/>), on the
    /// pumping thread, never before the next pump (subscribe right after ResumePending). It
    /// lives until <see cref="XoTracker.Shutdown"/>; restored purchases may keep arriving.
    /// </summary>
    public sealed class ResumedPurchases
    {
        private readonly object _gate = new object();
        private readonly Request _request;
        private Action<OrderOutcome> _finished;

        internal ResumedPurchases()
        {
            _request = new Request(this);
        }

        internal NativeRequest Native
        {
            get { return _request; }
        }

        /// <summary>How many orders the journal resumed or redelivered (restored ones come on top).</summary>
        public int Count { get; internal set; }

        /// <summary>The outcome of each resumed order. Grant when IsDone, then Acknowledge().</summary>
        public event Action<OrderOutcome> Finished
        {
            add { lock (_gate) _finished += value; }
            remove { lock (_gate) _finished -= value; }
        }

        private void Deliver(ref NativeMethods.xo_event e)
        {
            if (e.kind != EventKind.Final)
                return;
            var outcome = XoTracker.ToOutcome(ref e);
            Action<OrderOutcome> handlers;
            lock (_gate) handlers = _finished;
            XoTracker.Invoke(handlers, outcome);
        }

        /// <summary>The native side: one GCHandle for every resumed handle, freed at Shutdown.</summary>
        private sealed class Request : NativeRequest
        {
            private readonly ResumedPurchases _owner;

            public Request(ResumedPurchases owner)
                : base(0)
            {
                _owner = owner;
            }

            internal override bool ServesManyHandles
            {
                get { return true; }
            }

            internal override void Deliver(ref NativeMethods.xo_event e)
            {
                _owner.Deliver(ref e);
            }

            internal override void Abandon()
            {
                Release();
            }
        }
    }
}
