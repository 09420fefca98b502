using System;

namespace Xo.Tracker
{
    /// <summary>An order status (C: xo_status).</summary>
    [NativeType("xo_status", "XO_STATUS_")]
    public enum OrderStatus
    {
        /// <summary>No status known yet.</summary>
        None = 0,
        /// <summary>Created, not paid.</summary>
        New = 1,
        /// <summary>Paid, not yet delivered (not a success yet).</summary>
        Paid = 2,
        /// <summary>Delivered: the only success.</summary>
        Done = 3,
        /// <summary>Canceled or refunded.</summary>
        Canceled = 4,
        /// <summary>The unpaid order expired.</summary>
        Expired = 5,
        /// <summary>A status this library does not know (see StatusRaw). Tracking continues.</summary>
        Other = 6,
    }

    /// <summary>How tracking ended (C: xo_outcome).</summary>
    [NativeType("xo_outcome", "XO_OUTCOME_")]
    public enum Outcome
    {
        /// <summary>Not final (a check of an order that is not final yet).</summary>
        None = 0,
        /// <summary>Delivered: grant the items (and validate on your server with Xsolla's webhook).</summary>
        Done = 1,
        /// <summary>Canceled or refunded.</summary>
        Canceled = 2,
        /// <summary>The unpaid order expired.</summary>
        Expired = 3,
        /// <summary>No final status within the polling or overall deadline.</summary>
        TimedOut = 4,
        /// <summary>Xsolla does not know this order.</summary>
        NotFound = 5,
        /// <summary>The token was refused and no new token came in time.</summary>
        Unauthorized = 6,
        /// <summary>Tracking failed for another reason (see Error and Message).</summary>
        Failed = 7,
    }

    /// <summary>How status updates reach a tracker (C: xo_transport_state).</summary>
    [NativeType("xo_transport_state", "XO_TRANSPORT_STATE_")]
    public enum TransportState
    {
        /// <summary>Not known yet.</summary>
        None = 0,
        /// <summary>The push socket is connected.</summary>
        SocketConnected = 1,
        /// <summary>The socket is unavailable: polling over HTTP.</summary>
        Polling = 2,
        /// <summary>The socket is back after polling.</summary>
        SocketRestored = 3,
        /// <summary>The socket was re-opened on its periodic schedule.</summary>
        SocketReestablished = 4,
    }

    /// <summary>The push transport to use (C: xo_transport).</summary>
    [NativeType("xo_transport", "XO_TRANSPORT_")]
    public enum Transport
    {
        /// <summary>Xsolla's Centrifugo endpoint (default).</summary>
        Centrifugo = 0,
        /// <summary>The legacy per-order socket.</summary>
        LegacySocket = 1,
        /// <summary>No socket: HTTP polling only.</summary>
        PollingOnly = 2,
    }

    /// <summary>Where callbacks run (C: xo_delivery). The binding always uses Queued.</summary>
    [NativeType("xo_delivery", "XO_DELIVERY_")]
    internal enum Delivery
    {
        Direct = 0,
        Queued = 1,
    }

    /// <summary>What a native event is about (C: xo_event_kind).</summary>
    [NativeType("xo_event_kind", "XO_EVENT_KIND_")]
    internal enum EventKind
    {
        StatusChanged = 1,
        TransportChanged = 2,
        TokenExpired = 3,
        Final = 4,
        CheckResult = 5,
    }

    /// <summary>Log levels; lower is more severe (C: xo_log_level).</summary>
    [NativeType("xo_log_level", "XO_LOG_LEVEL_")]
    public enum LogLevel
    {
        /// <summary>Unrecoverable failures.</summary>
        Error = 1,
        /// <summary>Failures the library recovers from.</summary>
        Warn = 2,
        /// <summary>Transport changes and outcomes.</summary>
        Info = 3,
        /// <summary>Requests, frames and timers.</summary>
        Debug = 4,
    }

    /// <summary>The library's result codes (C: xo_result). Every error is negative.</summary>
    [NativeType("xo_result", "XO_RESULT_")]
    public enum XoResult
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>A required argument was null.</summary>
        NullArgument = -1,
        /// <summary>An argument is out of range or malformed.</summary>
        InvalidArgument = -2,
        /// <summary>A string argument is not valid UTF-8.</summary>
        InvalidUtf8 = -3,
        /// <summary>Configure has not been called (or Shutdown cleared the configuration).</summary>
        NotConfigured = -4,
        /// <summary>No tracker or check has this handle.</summary>
        UnknownHandle = -5,
        /// <summary>The call conflicts with running trackers.</summary>
        Busy = -6,
        /// <summary>The call is not allowed from inside an event callback.</summary>
        InCallback = -7,
        /// <summary>The library caught a panic; it is still usable.</summary>
        Panic = -8,
        /// <summary>An unexpected internal failure.</summary>
        Internal = -9,
        /// <summary>The connection failed or broke.</summary>
        Network = -20,
        /// <summary>A request or handshake took too long, or a deadline passed.</summary>
        Timeout = -21,
        /// <summary>An unexpected HTTP answer (see HttpStatus).</summary>
        Http = -22,
        /// <summary>The token was refused.</summary>
        Unauthorized = -23,
        /// <summary>The order does not exist.</summary>
        NotFound = -24,
        /// <summary>The server broke the protocol.</summary>
        Protocol = -25,
        /// <summary>The server asked us to slow down (HTTP 429).</summary>
        RateLimited = -26,
        /// <summary>The socket server refused the credentials; polling continues.</summary>
        SocketRejected = -27,
        /// <summary>Acknowledge: the journal does not know this order.</summary>
        UnknownOrder = -40,
        /// <summary>Track: the order was acknowledged, so it is never tracked or delivered again.</summary>
        AlreadyAcknowledged = -41,
        /// <summary>The journal cannot write to disk: purchases are kept in memory only (see the message).</summary>
        JournalUnavailable = -42,
    }

    /// <summary>Where an outcome comes from (C: xo_origin).</summary>
    [NativeType("xo_origin", "XO_ORIGIN_")]
    public enum Origin
    {
        /// <summary>An order tracked in this session.</summary>
        Live = 0,
        /// <summary>From the purchase journal: tracked or delivered before (an earlier launch) and not acknowledged yet.</summary>
        Redelivered = 1,
        /// <summary>A purchase this device never saw, restored from Xsolla: show it as a restored purchase.</summary>
        Restored = 2,
    }

    /// <summary>A change of transport, with the reason when a socket failed.</summary>
    public struct TransportChange
    {
        internal TransportChange(TransportState state, XoResult error, int httpStatus, string message)
        {
            State = state;
            Error = error;
            HttpStatus = httpStatus;
            Message = message;
        }

        /// <summary>The new transport state.</summary>
        public TransportState State { get; private set; }

        /// <summary>Why the socket is not used (XoResult.Ok if it is).</summary>
        public XoResult Error { get; private set; }

        /// <summary>The HTTP status behind Error, or 0.</summary>
        public int HttpStatus { get; private set; }

        /// <summary>A description of Error ("" if none).</summary>
        public string Message { get; private set; }

        public override string ToString()
        {
            return Error == XoResult.Ok ? State.ToString() : State + " (" + Error + ": " + Message + ")";
        }
    }

    /// <summary>
    /// How an order ended (a tracker's final event), or the answer of CheckOrderAsync.
    /// Grant items only when <see cref="IsDone"/> is true.
    /// </summary>
    public sealed class OrderOutcome
    {
        internal OrderOutcome(long orderId, Outcome outcome, OrderStatus status, string statusRaw,
            XoResult error, int httpStatus, string message, string contentsJson, OrderContents contents, Origin origin = Origin.Live)
        {
            Origin = origin;
            OrderId = orderId;
            Outcome = outcome;
            Status = status;
            StatusRaw = statusRaw ?? "";
            Error = error;
            HttpStatus = httpStatus;
            Message = message ?? "";
            ContentsJson = contentsJson;
            Contents = contents;
        }

        /// <summary>The order.</summary>
        public long OrderId { get; private set; }

        /// <summary>How it ended. For a check of an order that is not final yet: Outcome.None.</summary>
        public Outcome Outcome { get; private set; }

        /// <summary>The latest known status.</summary>
        public OrderStatus Status { get; private set; }

        /// <summary>The status exactly as Xsolla sent it ("" if none).</summary>
        public string StatusRaw { get; private set; }

        /// <summary>XoResult.Ok, or what failed.</summary>
        public XoResult Error { get; private set; }

        /// <summary>The HTTP status that caused the error, or 0.</summary>
        public int HttpStatus { get; private set; }

        /// <summary>A human-readable description of the error ("" if none). Never contains the token.</summary>
        public string Message { get; private set; }

        /// <summary>The order contents (on done, and on a successful check); null otherwise.</summary>
        public OrderContents Contents { get; private set; }

        /// <summary>The same contents as the library's normalised JSON (to store or forward), or null.</summary>
        public string ContentsJson { get; private set; }

        /// <summary>True when the order was delivered: the only case in which to grant the items.</summary>
        public bool IsDone { get { return Outcome == Outcome.Done; } }

        /// <summary>Live, redelivered from the purchase journal, or restored from Xsolla.</summary>
        public Origin Origin { get; private set; }

        /// <summary>
        /// Call after granting the items of a done order: it is never delivered again (not after a
        /// restart, not by ResumePending, not restored from Xsolla). Durable when it returns;
        /// idempotent. Make grants idempotent on OrderId: a crash between the grant and this call
        /// delivers the order again. Returns Ok (also without a journal), UnknownOrder, or
        /// JournalUnavailable (acknowledged in memory only).
        /// </summary>
        public XoResult Acknowledge()
        {
            return XoTracker.Acknowledge(OrderId);
        }

        public override string ToString()
        {
            var text = "order " + OrderId + ": " + Outcome + " (status " + Status + ")";
            return Error == XoResult.Ok ? text : text + ", " + Error + ": " + Message;
        }
    }

    /// <summary>Thrown when the library refuses an argument; Message is the library's message.</summary>
    public sealed class XoArgumentException : ArgumentException
    {
        private readonly string _libraryMessage;

        internal XoArgumentException(XoResult result, string message, string paramName)
            : base(message, paramName)
        {
            Result = result;
            _libraryMessage = message;
        }

        /// <summary>The library's message, exactly (ParamName says which argument, when known).</summary>
        public override string Message
        {
            get { return _libraryMessage; }
        }

        /// <summary>The library's result code (NullArgument, InvalidArgument or InvalidUtf8).</summary>
        public XoResult Result { get; private set; }
    }

    /// <summary>Thrown when a library call fails for another reason; Message is the library's message.</summary>
    public sealed class XoException : InvalidOperationException
    {
        internal XoException(XoResult result, string message)
            : base(message)
        {
            Result = result;
        }

        /// <summary>The library's result code.</summary>
        public XoResult Result { get; private set; }
    }
}
