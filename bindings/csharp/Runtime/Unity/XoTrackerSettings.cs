#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace Xo.Tracker
{
    /// <summary>
    /// The project's Xo Tracker settings, edited in Project Settings &gt; Xo Tracker and saved as
    /// Assets/Resources/XoTrackerSettings.asset, so that <see cref="XoTracker.Configure()"/> works
    /// with no code. Everything else keeps the library's defaults; for more, call
    /// <see cref="XoTracker.Configure(XoConfig)"/> with <see cref="ToConfig"/> changed.
    /// </summary>
    public sealed class XoTrackerSettings : ScriptableObject
    {
        /// <summary>The name under Resources/ (without extension).</summary>
        public const string ResourceName = "XoTrackerSettings";

        private static XoTrackerSettings s_loaded;

        [Tooltip("Your Xsolla project id (Publisher Account > Project settings).")]
        [SerializeField] private long projectId;

        [Tooltip("How status updates arrive: Xsolla's Centrifugo socket (default), the legacy socket, or HTTP polling only.")]
        [SerializeField] private Transport transport = Transport.Centrifugo;

        [Tooltip("Library log lines up to this level go to the Console (when no log handler is set).")]
        [SerializeField] private LogLevel logLevel = XoTracker.DefaultLogLevel;

        /// <summary>The Xsolla project id (0: not set).</summary>
        public long ProjectId
        {
            get { return projectId; }
            set { projectId = value; }
        }

        /// <summary>The push transport.</summary>
        public Transport Transport
        {
            get { return transport; }
            set { transport = value; }
        }

        /// <summary>Library lines up to this level go to the Console without a log handler.</summary>
        public LogLevel LogLevel
        {
            get { return logLevel; }
            set { logLevel = value; }
        }

        /// <summary>A configuration with these settings (and the library's defaults for the rest).</summary>
        public XoConfig ToConfig()
        {
            return new XoConfig { ProjectId = projectId, Transport = transport };
        }

        /// <summary>The settings asset from Resources/, or null if the project has none.</summary>
        public static XoTrackerSettings Load()
        {
            if (s_loaded == null)
                s_loaded = Resources.Load<XoTrackerSettings>(ResourceName);
            return s_loaded;
        }

        internal static void ResetStatics()
        {
            s_loaded = null;
        }
    }
}
#endif
