using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Xo.Tracker
{
    /// <summary>
    /// A tracker or check that native code knows about. It owns one GCHandle, passed as the
    /// callback's userdata: allocated by <see cref="XoTracker"/> before the native call and freed
    /// exactly once (<see cref="Release"/>) when the final event has been delivered, when the
    /// request is cancelled, when the native call fails, or on shutdown.
    /// </summary>
    internal abstract class NativeRequest
    {
        private GCHandle _self;
        private int _released;
        private long _handle;

        protected NativeRequest(long orderId)
        {
            OrderId = orderId;
        }

        /// <summary>The order.</summary>
        public long OrderId { get; private set; }

        /// <summary>The native handle (&gt; 0) once the native call returned it.</summary>
        public long Handle
        {
            get { return Interlocked.Read(ref _handle); }
        }

        /// <summary>The GCHandle as a pointer (the native userdata).</summary>
        internal IntPtr Userdata { get; private set; }

        /// <summary>True once the GCHandle was freed: no native callback can reach this request.</summary>
        public bool IsReleased
        {
            get { return Volatile.Read(ref _released) != 0; }
        }

        internal void Allocate()
        {
            _self = GCHandle.Alloc(this, GCHandleType.Normal);
            Userdata = GCHandle.ToIntPtr(_self);
        }

        internal void SetHandle(long handle)
        {
            Interlocked.CompareExchange(ref _handle, handle, 0);
        }

        /// <summary>Frees the GCHandle and unregisters; true only for the call that did it.</summary>
        internal bool Release()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
                return false;
            XoTracker.Unregister(this);
            _self.Free();
            XoTracker.CountFree();
            return true;
        }

        /// <summary>Cancels natively (if still live) and releases; true if this call released.</summary>
        internal bool CancelNative()
        {
            if (IsReleased)
                return false;
            var handle = Handle;
            if (handle > 0)
            {
                // OK, or UNKNOWN_HANDLE when the final event already ran (Release did then) or the
                // library was shut down: either way no callback for this handle follows.
                XoTracker.CancelHandle(handle);
            }
            return Release();
        }

        /// <summary>True for a request whose userdata serves many handles (ResumePending): a final event does not end it.</summary>
        internal virtual bool ServesManyHandles
        {
            get { return false; }
        }

        /// <summary>Runs on the dispatching thread, inside xo_dispatch.</summary>
        internal abstract void Deliver(ref NativeMethods.xo_event e);

        /// <summary>The library will not call back any more (shutdown): release, complete as cancelled.</summary>
        internal abstract void Abandon();
    }
}
