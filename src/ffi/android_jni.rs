//! The JNI side of `xo_android_init` (Android only).

use std::ffi::c_void;

use jni::objects::{JObject, JString, JValue};
use jni::{jni_sig, jni_str, Env};

/// The Kotlin class rustls-platform-verifier calls; missing when the app did not bundle its AAR.
const VERIFIER_CLASS: &str = "org.rustls.platformverifier.CertificateVerifier";

/// Records the JVM when Java loads the library (`System.loadLibrary`).
///
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut c_void,
) -> jni::sys::jint {
    if !vm.is_null() {
        let _ = jni::JavaVM::from_raw(vm);
    }
    jni::sys::JNI_VERSION_1_6
}

/// Checks the verifier's Kotlin class is in the app, then initialises rustls-platform-verifier.
///
/// # Safety
/// `java_vm` NULL or a valid `JavaVM*`; `context` a valid reference to an Android Context.
pub unsafe fn init(java_vm: *mut c_void, context: *mut c_void) -> Result<(), String> {
    let vm = if java_vm.is_null() {
        jni::JavaVM::singleton().map_err(|e| {
            format!("no JavaVM: pass it, or load the library with System.loadLibrary first ({e})")
        })?
    } else {
        jni::JavaVM::from_raw(java_vm.cast())
    };
    vm.attach_current_thread(|env| -> Result<Result<(), String>, jni::errors::Error> {
        let context = JObject::from_raw(env, context as jni::sys::jobject);
        if let Err(e) = find_verifier_class(env, &context) {
            let _ = env.exception_clear();
            return Ok(Err(format!(
                "{VERIFIER_CLASS} is not in the app (bundle rustls-platform-verifier's AAR): {e}"
            )));
        }
        verifier_init(env, context)?;
        Ok(Ok(()))
    })
    .map_err(|e| e.to_string())?
}

fn find_verifier_class(env: &mut Env, context: &JObject) -> Result<(), jni::errors::Error> {
    let loader = env
        .call_method(
            context,
            jni_str!("getClassLoader"),
            jni_sig!(() -> JClassLoader),
            &[],
        )?
        .l()?;
    let name: JString = env.new_string(VERIFIER_CLASS)?;
    env.call_method(
        &loader,
        jni_str!("loadClass"),
        jni_sig!((JString) -> JClass),
        &[JValue::Object(&name)],
    )?;
    Ok(())
}

#[cfg(target_os = "android")]
fn verifier_init(env: &mut Env, context: JObject) -> Result<(), jni::errors::Error> {
    rustls_platform_verifier::android::init_with_env(env, context)
}
