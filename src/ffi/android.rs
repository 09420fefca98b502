//! `xo_android_init`: hands the library the JVM and an Android `Context`, which the operating
//! system's certificate verifier needs on Android. A no-op on every other platform.

use std::ffi::c_void;

use super::guard::{boundary, fail};
use super::types::xo_result;

/// Android only (elsewhere it returns `XO_RESULT_OK` and does nothing): lets TLS use Android's
/// certificate verifier (user-installed CAs, the device's trust store). Call it once, before
/// `xo_configure`, on a thread attached to the JVM. `java_vm` is the process's `JavaVM*`, or NULL
/// to use the one recorded by the library's `JNI_OnLoad` (load the library with
/// `System.loadLibrary("xo_tracker")` first); `context` is a `jobject` Android `Context` (the
/// application context). The app must also bundle rustls-platform-verifier's Android component
/// (`rustls-platform-verifier` AAR). Without this call, TLS uses the bundled Mozilla roots and the
/// log says so.
///
/// # Safety
/// `java_vm` must be NULL or a valid `JavaVM*`; `context` a valid JNI reference to a Context.
#[no_mangle]
pub unsafe extern "C" fn xo_android_init(java_vm: *mut c_void, context: *mut c_void) -> xo_result {
    boundary("xo_android_init", xo_result::Panic, || {
        if cfg!(not(target_os = "android")) {
            return xo_result::Ok;
        }
        if context.is_null() {
            return fail(xo_result::NullArgument, "context is NULL");
        }
        match platform::init(java_vm, context) {
            Ok(()) => {
                crate::tls::set_platform_ready();
                xo_result::Ok
            }
            Err(why) => fail(
                xo_result::Internal,
                &format!(
                    "Android verifier initialisation failed (TLS uses the bundled roots): {why}"
                ),
            ),
        }
    })
}

#[cfg(not(target_os = "android"))]
mod platform {
    use std::ffi::c_void;

    pub unsafe fn init(_java_vm: *mut c_void, _context: *mut c_void) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(target_os = "android")]
#[path = "android_jni.rs"]
mod platform;
