using System;
using System.Threading;
using UnityEngine;
using Xo.Tracker;

namespace Xo.Tracker.Samples
{
    /// <summary>
    /// A purchase flow: open Xsolla's payment page for an order your game server created, track the
    /// order, and grant the items once it is done. Put it on any GameObject, fill in the fields
    /// (or call <see cref="StartPurchase"/> from your shop UI) and press Play.
    ///
    /// Everything below runs on the main thread: the package pumps the library every frame.
    /// Every async method here catches OperationCanceledException: leaving play mode (or the
    /// domain reloading, or the app quitting) shuts the library down, which ends live trackings
    /// and checks as cancelled, and so does destroying this object (its own token below).
    /// </summary>
    public sealed class PurchaseFlowSample : MonoBehaviour
    {
        [Tooltip("Your Xsolla project id; 0: the one in Project Settings > Xo Tracker.")]
        [SerializeField] private long projectId;

        [Tooltip("The user's Xsolla Login JWT (or the payment token).")]
        [SerializeField] private string userToken = "";

        [Tooltip("The order id your server received when it created the order.")]
        [SerializeField] private long orderId;

        [Tooltip("The payment token your server received with the order (opens the payment page).")]
        [SerializeField] private string paymentToken = "";

        [SerializeField] private bool sandbox = true;

        private readonly CancellationTokenSource _lifetime = new CancellationTokenSource(); // Unity 2022.2+: destroyCancellationToken
        private OrderTracking _tracking;
        private string _status = "idle";

        private void Start()
        {
            if (!XoTracker.IsSupported)
            {
                _status = "not supported on this platform (WebGL: ask your game server)";
                return;
            }
            // Library warnings and errors go to the Console by default (XoTracker.SetLogHandler to change).
            if (projectId > 0)
                XoTracker.Configure(new XoConfig { ProjectId = projectId });
            else
                XoTracker.Configure(); // Project Settings > Xo Tracker
            if (orderId > 0)
                StartPurchase(orderId, paymentToken);
        }

        /// <summary>Opens the payment page and tracks the order until it ends.</summary>
        public void StartPurchase(long order, string payStationToken)
        {
            if (!string.IsNullOrEmpty(payStationToken))
            {
                var host = sandbox ? "https://sandbox-secure.xsolla.com" : "https://secure.xsolla.com";
                Application.OpenURL(host + "/paystation4/?token=" + Uri.EscapeDataString(payStationToken));
            }

            _tracking?.Dispose(); // one purchase at a time in this sample
            _tracking = XoTracker.Track(order, userToken, _lifetime.Token); // cancelled when this object goes
            _tracking.StatusChanged += status => _status = "order " + status;
            _tracking.TransportChanged += change => Debug.Log("[xo-tracker] transport: " + change);
            _tracking.TokenExpired += () =>
            {
                // Refresh the Xsolla Login token (your auth code) and hand it over in time.
                _tracking.UpdateToken(RefreshUserToken());
            };
            _tracking.Finished += OnFinished;
        }

        /// <summary>The same flow with async/await (continuations run on the main thread).</summary>
        public async void StartPurchaseAsync(long order)
        {
            // async void: an exception escaping it is unhandled; catch everything expected here.
            try
            {
                var outcome = await XoTracker.Track(order, userToken, _lifetime.Token);
                OnFinished(outcome);
            }
            catch (OperationCanceledException)
            {
                // Destroyed, or play mode ended (Shutdown): this object may be gone, touch nothing.
            }
            catch (XoException e)
            {
                _status = "cannot track: " + e.Message;
            }
        }

        /// <summary>Re-checks an order once, e.g. when the player comes back to the shop.</summary>
        public async void RecheckOrder(long order)
        {
            try
            {
                var answer = await XoTracker.CheckOrderAsync(order, userToken, _lifetime.Token);
                _status = "checked: " + answer.Status + (answer.Outcome != Outcome.None ? " (" + answer.Outcome + ")" : "");
            }
            catch (OperationCanceledException)
            {
                // Destroyed, or play mode ended (Shutdown).
            }
            catch (XoException e)
            {
                _status = "cannot check: " + e.Message;
            }
        }

        private void OnFinished(OrderOutcome outcome)
        {
            if (outcome.IsDone)
            {
                _status = "delivered";
                foreach (var item in outcome.Contents.Items)
                    GrantItem(item.Sku, item.Quantity);
                // Client-side grants drive the UI; validate the purchase on your server too
                // (Xsolla's payment webhook).
            }
            else
            {
                _status = "not delivered: " + outcome.Outcome + (outcome.Message.Length > 0 ? " (" + outcome.Message + ")" : "");
            }
        }

        private void GrantItem(string sku, long quantity)
        {
            Debug.Log("Granting " + quantity + " x " + sku);
        }

        private string RefreshUserToken()
        {
            return userToken; // replace with your Xsolla Login refresh
        }

        private void OnDestroy()
        {
            // Leaving the shop: cancels the tracking and any check (no callback after this).
            _lifetime.Cancel();
            _lifetime.Dispose();
        }

        private void OnGUI()
        {
            GUILayout.Label("Purchase: " + _status);
        }
    }
}
