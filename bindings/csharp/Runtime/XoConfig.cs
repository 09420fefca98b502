using System;

namespace Xo.Tracker
{
    /// <summary>
    /// Library configuration for <see cref="XoTracker.Configure(XoConfig)"/>. Only ProjectId is
    /// required; zero, null and default values take the library's defaults (production Xsolla
    /// endpoints, 3 s polling, 30 min overall deadline...). Serializable, so a MonoBehaviour can
    /// expose it in the Inspector.
    /// </summary>
    [Serializable]
    public sealed class XoConfig
    {
        /// <summary>The Xsolla project id (required, positive).</summary>
        public long ProjectId;

        /// <summary>Push transport (default Centrifugo).</summary>
        public Transport Transport = Transport.Centrifugo;

        /// <summary>Centrifugo WebSocket URL; null or empty: Xsolla's.</summary>
        public string CentrifugoUrl;

        /// <summary>Legacy socket URL without query; null or empty: Xsolla's.</summary>
        public string LegacySocketUrl;

        /// <summary>Store API base URL; null or empty: Xsolla's.</summary>
        public string ApiBaseUrl;

        /// <summary>Milliseconds between status requests while polling (0: 3000).</summary>
        public int PollIntervalMs;

        /// <summary>A socket is re-opened after this long without a final status (0: 300000).</summary>
        public int SocketReestablishMs;

        /// <summary>Polling without a final status ends as timed out after this long (0: 600000).</summary>
        public int PollingDeadlineMs;

        /// <summary>No tracker lives longer than this (0: 1800000).</summary>
        public int OverallDeadlineMs;

        /// <summary>How long to wait for UpdateToken after the token was refused (0: 60000).</summary>
        public int TokenWaitMs;

        /// <summary>Limit for one HTTP request and a socket's connect (0: 10000).</summary>
        public int RequestTimeoutMs;

        /// <summary>Smallest reconnect/retry delay (0: 500).</summary>
        public int BackoffMinMs;

        /// <summary>Largest reconnect/retry delay (0: 20000).</summary>
        public int BackoffMaxMs;

        /// <summary>Library worker threads (0: 1, at most 16).</summary>
        public int WorkerThreads;

        /// <summary>Allows ws:// and http:// to loopback addresses (tests, the simulator). Never in production.</summary>
        public bool AllowInsecureLoopback;

        /// <summary>
        /// A proxy for every request and socket: http://, https://, socks5:// or socks5h://
        /// (scheme://[user:password@]host:port; credentials never appear in logs or messages).
        /// Null or empty: the HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY variables, then the
        /// Windows/macOS system settings.
        /// </summary>
        public string Proxy;

        /// <summary>
        /// Extra trusted CA certificates as PEM text (a TLS-inspecting proxy's or antivirus's
        /// root), added to the operating system's trust store. Null or empty: none.
        /// </summary>
        public string CaBundlePem;

        /// <summary>A PEM file of extra trusted CA certificates. Null or empty: none.</summary>
        public string CaBundleFile;

        /// <summary>
        /// Purchase journal folder: done orders are delivered again after every launch
        /// (<see cref="XoTracker.ResumePending"/>) until <see cref="OrderOutcome.Acknowledge"/>.
        /// Null or empty: in Unity, a folder under Application.persistentDataPath; elsewhere none.
        /// </summary>
        public string JournalDir;

        /// <summary>False: no journal at all (nothing survives the process).</summary>
        public bool UseJournal = true;

        /// <summary>Also restore purchases this device never saw from Xsolla's Events API (needs the journal).</summary>
        public bool RestoreFromXsolla;

        /// <summary>Events API base URL; null or empty: https://getupdate.xsolla.com.</summary>
        public string EventsApiUrl;

        /// <summary>Read the Events API again this often after ResumePending (0: only then; else at least 3000).</summary>
        public int RestoreIntervalMs;

        /// <summary>A copy.</summary>
        public XoConfig Clone()
        {
            return (XoConfig)MemberwiseClone();
        }
    }
}
