// Unity-only glue: the main-thread pump and the lifecycle hooks that shut the native library down
// before the managed domain that owns its callbacks goes away. Plain Mono/.NET builds skip it.
#if UNITY_5_3_OR_NEWER
using System;
using UnityEngine;
#if UNITY_EDITOR
using UnityEditor;
#endif

namespace Xo.Tracker
{
    public static partial class XoTracker
    {
        static partial void OnConfigured()
        {
            XoTrackerPump.Ensure();
        }

        static partial void DefaultJournalDir(ref string dir)
        {
            dir = System.IO.Path.Combine(Application.persistentDataPath, "xo-tracker-journal");
        }

        static partial void LogUnhandledUnity(Exception e, ref bool handled)
        {
            Debug.LogException(e);
            handled = true;
        }

        static partial void LogToConsoleUnity(LogLevel level, string line, ref bool handled)
        {
            if (level == LogLevel.Error)
                Debug.LogError("[xo-tracker] " + line);
            else if (level == LogLevel.Warn)
                Debug.LogWarning("[xo-tracker] " + line);
            else
                Debug.Log("[xo-tracker] " + line);
            handled = true;
        }

        static partial void ResetUnityStatics()
        {
            XoTrackerPump.ResetStatics();
            XoTrackerSettings.ResetStatics();
        }

        /// <summary>
        /// Configures from the project's settings asset (Project Settings &gt; Xo Tracker, saved as
        /// Assets/Resources/XoTrackerSettings.asset): project id, transport, Console log level.
        /// Call it from the main thread, e.g. in Start.
        /// </summary>
        /// <exception cref="XoException">NotConfigured: no settings asset, or no project id in it.</exception>
        public static void Configure()
        {
            var settings = XoTrackerSettings.Load();
            if (settings == null)
                throw new XoException(XoResult.NotConfigured, "no Xo Tracker settings: set the project id in " +
                    "Project Settings > Xo Tracker (Assets/Resources/" + XoTrackerSettings.ResourceName + ".asset)");
            if (settings.ProjectId <= 0)
                throw new XoException(XoResult.NotConfigured, "the Xo Tracker settings have no project id: set it in " +
                    "Project Settings > Xo Tracker");
            ConsoleLogLevel = settings.LogLevel;
            Configure(settings.ToConfig());
        }

        /// <summary>Shutdown that never throws (quit and reload hooks).</summary>
        internal static void ShutdownQuietly()
        {
            try
            {
                Shutdown();
            }
            catch (Exception e)
            {
                Debug.LogException(e);
            }
        }

        // Runs at the start of every play session and player launch, before any scene loads. With
        // "Enter Play Mode Options" (no domain reload) statics survive the previous session: clear
        // whatever it left, and (re)register the quit hook exactly once.
        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.SubsystemRegistration)]
        private static void OnSubsystemRegistration()
        {
            ShutdownQuietly();
            ResetStatics();
            Application.quitting -= ShutdownQuietly;
            Application.quitting += ShutdownQuietly;
        }

#if UNITY_EDITOR
        // Runs after every domain load in the Editor. The native library is never unloaded, so it
        // must be shut down before this domain's callbacks and GCHandles disappear.
        [InitializeOnLoadMethod]
        private static void InstallEditorHooks()
        {
            AssemblyReloadEvents.beforeAssemblyReload -= ShutdownQuietly;
            AssemblyReloadEvents.beforeAssemblyReload += ShutdownQuietly;
            EditorApplication.playModeStateChanged -= OnPlayModeStateChanged;
            EditorApplication.playModeStateChanged += OnPlayModeStateChanged;
        }

        private static void OnPlayModeStateChanged(PlayModeStateChange change)
        {
            if (change == PlayModeStateChange.ExitingPlayMode)
                ShutdownQuietly();
        }
#endif
    }
}
#endif
