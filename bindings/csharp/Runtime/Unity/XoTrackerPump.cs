#if UNITY_5_3_OR_NEWER
using System;
using UnityEngine;
#if UNITY_EDITOR
using UnityEditor;
#endif

namespace Xo.Tracker
{
    /// <summary>
    /// Created by <see cref="XoTracker.Configure(XoConfig)"/> on a hidden DontDestroyOnLoad object:
    /// runs the library's queued events on the main thread every frame, and tells the library when
    /// the app is paused or resumed and when connectivity comes back. Do not add it yourself.
    /// </summary>
    [AddComponentMenu("")]
    [DisallowMultipleComponent]
    public sealed class XoTrackerPump : MonoBehaviour
    {
        private const int MaxEventsPerFrame = 256;
        private const float ReachabilityCheckSeconds = 1f;

        private static XoTrackerPump s_instance;
        private NetworkReachability _reachability;
        private float _nextReachabilityCheck;

        internal static void Ensure()
        {
#if UNITY_EDITOR
            if (!Application.isPlaying)
            {
                // Edit mode (editor tools): no Update on scene objects, pump from the editor loop.
                EditorApplication.update -= Pump;
                EditorApplication.update += Pump;
                return;
            }
            EditorApplication.update -= Pump;
#endif
            if (s_instance != null)
                return;
            var go = new GameObject("XoTrackerPump");
            go.hideFlags = HideFlags.HideInHierarchy | HideFlags.HideInInspector | HideFlags.NotEditable;
            DontDestroyOnLoad(go);
            s_instance = go.AddComponent<XoTrackerPump>();
        }

        internal static void ResetStatics()
        {
            s_instance = null;
        }

        private static void Pump()
        {
            try
            {
                XoTracker.Dispatch(MaxEventsPerFrame);
            }
            catch (Exception e)
            {
                Debug.LogException(e);
            }
        }

        private static void SetAppActive(bool active)
        {
            if (active == XoTracker.IsAppActive)
                return; // Unity may send both pause and focus: act once per change
            try
            {
                XoTracker.SetAppActive(active);
            }
            catch (Exception e)
            {
                Debug.LogException(e);
            }
        }

        private void Awake()
        {
            _reachability = Application.internetReachability;
        }

        private void Update()
        {
            Pump();
            if (Time.unscaledTime >= _nextReachabilityCheck)
            {
                _nextReachabilityCheck = Time.unscaledTime + ReachabilityCheckSeconds;
                var now = Application.internetReachability;
                if (now != _reachability)
                {
                    _reachability = now;
                    if (now != NetworkReachability.NotReachable)
                    {
                        try
                        {
                            XoTracker.NetworkChanged();
                        }
                        catch (Exception e)
                        {
                            Debug.LogException(e);
                        }
                    }
                }
            }
        }

        // Mobile: sent when the app goes to the background and comes back. Paused, the library
        // closes its sockets and stops polling; on resume it checks every order at once.
        private void OnApplicationPause(bool paused)
        {
            SetAppActive(!paused);
        }

        // Regaining focus always means active (some Android versions send focus without a pause
        // change). Losing focus pauses nothing: on desktop the player is paying in the browser.
        private void OnApplicationFocus(bool focused)
        {
            if (focused)
                SetAppActive(true);
        }

        private void OnDestroy()
        {
            if (s_instance == this)
                s_instance = null;
        }
    }
}
#endif
