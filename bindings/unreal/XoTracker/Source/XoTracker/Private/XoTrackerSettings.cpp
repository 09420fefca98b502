#include "XoTrackerSettings.h"

#include "Misc/Paths.h"

namespace
{
	uint32_t NonNegative(int32 Value)
	{
		return Value > 0 ? static_cast<uint32_t>(Value) : 0u;
	}
}

FName UXoTrackerSettings::GetCategoryName() const
{
	return FName(TEXT("Plugins"));
}

xo::Config UXoTrackerSettings::ToConfig() const
{
	xo::Config Config;
	Config.project_id = ProjectId;
	Config.transport = XoTracker::Convert(Transport);
	// Events wait in the library until FXoTrackerModule's ticker dispatches them on the game thread.
	Config.delivery = xo::Delivery::Queued;
	Config.centrifugo_url = XoTracker::ToUtf8(CentrifugoUrl);
	Config.legacy_socket_url = XoTracker::ToUtf8(LegacySocketUrl);
	Config.api_base_url = XoTracker::ToUtf8(ApiBaseUrl);
	Config.proxy_url = XoTracker::ToUtf8(ProxyUrl);
	Config.ca_bundle_pem = XoTracker::ToUtf8(CaBundlePem);
	Config.ca_bundle_file = XoTracker::ToUtf8(CaBundleFile);
	Config.poll_interval_ms = NonNegative(PollIntervalMs);
	Config.socket_reestablish_ms = NonNegative(SocketReestablishMs);
	Config.polling_deadline_ms = NonNegative(PollingDeadlineMs);
	Config.overall_deadline_ms = NonNegative(OverallDeadlineMs);
	Config.token_wait_ms = NonNegative(TokenWaitMs);
	Config.request_timeout_ms = NonNegative(RequestTimeoutMs);
	Config.backoff_min_ms = NonNegative(BackoffMinMs);
	Config.backoff_max_ms = NonNegative(BackoffMaxMs);
	Config.worker_threads = NonNegative(WorkerThreads);
	if (bUseJournal)
	{
		const FString Dir = JournalDir.IsEmpty() ? FPaths::Combine(FPaths::ProjectSavedDir(), TEXT("XoTracker"), TEXT("Journal")) : JournalDir;
		Config.journal_dir = XoTracker::ToUtf8(Dir);
	}
	Config.restore_from_xsolla = bRestoreFromXsolla;
	Config.events_api_url = XoTracker::ToUtf8(EventsApiUrl);
	Config.restore_interval_ms = NonNegative(RestoreIntervalMs);
#if UE_BUILD_SHIPPING
	Config.allow_insecure_loopback = false;
#else
	Config.allow_insecure_loopback = bAllowInsecureLoopback;
#endif
	return Config;
}
