// WITH_XO_TRACKER=0 (XoTrackerLibrary.Build.cs found no native library for the platform): the C ABI
// defined here so the plugin links, every call failing with "not available". The module never
// reaches these in practice (it logs and disables tracking at startup), but code that calls the
// C API or xo_tracker.hpp directly gets a clear error instead of a link failure. check.sh links
// this file against the C++ wrapper and checks that it defines every function of the header.
#include "CoreMinimal.h"

#if !WITH_XO_TRACKER

THIRD_PARTY_INCLUDES_START
#include "xo_tracker.h"
THIRD_PARTY_INCLUDES_END

namespace
{
	const char* const Unavailable = "xo-tracker is not available on this platform: the plugin was built without its native library (WITH_XO_TRACKER=0)";
}

extern "C"
{
	const char* xo_version(void) { return "unavailable"; }
	uint32_t xo_abi_version(void) { return XO_ABI_VERSION; }
	const char* xo_last_error(void) { return Unavailable; }
	const char* xo_result_string(int32_t code) { return code == XO_RESULT_OK ? "ok" : "not available on this platform"; }
	xo_result xo_configure(const struct xo_config* /*config*/) { return XO_RESULT_NOT_CONFIGURED; }
	int64_t xo_track_order(int64_t /*order_id*/, const char* /*token*/, xo_event_callback /*callback*/, void* /*userdata*/)
	{
		return XO_RESULT_NOT_CONFIGURED;
	}
	int64_t xo_check_order(int64_t /*order_id*/, const char* /*token*/, xo_event_callback /*callback*/, void* /*userdata*/)
	{
		return XO_RESULT_NOT_CONFIGURED;
	}
	xo_result xo_cancel(int64_t /*handle*/) { return XO_RESULT_UNKNOWN_HANDLE; }
	xo_result xo_update_token(int64_t /*handle*/, const char* /*token*/) { return XO_RESULT_UNKNOWN_HANDLE; }
	int32_t xo_dispatch(uint32_t /*max_events*/) { return 0; }
	xo_result xo_shutdown(void) { return XO_RESULT_OK; }
	xo_result xo_set_app_active(int32_t /*active*/) { return XO_RESULT_OK; }
	xo_result xo_network_changed(void) { return XO_RESULT_OK; }
	xo_result xo_set_log_callback(xo_log_callback /*callback*/, void* /*userdata*/, int32_t /*max_level*/) { return XO_RESULT_OK; }
	xo_result xo_android_init(void* /*java_vm*/, void* /*context*/) { return XO_RESULT_OK; }
	int32_t xo_resume_pending(const char* /*token*/, xo_event_callback /*callback*/, void* /*userdata*/)
	{
		return XO_RESULT_NOT_CONFIGURED;
	}
	xo_result xo_acknowledge(int64_t /*order_id*/) { return XO_RESULT_OK; }
	xo_result xo_journal_status(void) { return XO_RESULT_NOT_CONFIGURED; }
}

#endif // !WITH_XO_TRACKER
