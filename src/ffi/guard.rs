//! The safety net of every exported function: panics caught, errors recorded per thread, C
//! strings read with bounds.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

use super::types::xo_result;
use crate::engine::Error;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the calling thread's last error message.
pub fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
}

/// A pointer to the calling thread's last error message, valid until its next failing call.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

/// Records `message` and returns `code`.
pub fn fail(code: xo_result, message: &str) -> xo_result {
    set_last_error(message);
    code
}

/// Maps an engine error to its code, recording its message.
pub fn fail_with(error: &Error) -> xo_result {
    let code = match error {
        Error::InvalidArgument(_) => xo_result::InvalidArgument,
        Error::UnknownHandle(_) => xo_result::UnknownHandle,
        Error::InListener(_) => xo_result::InCallback,
        Error::NotConfigured | Error::ShutDown => xo_result::NotConfigured,
        Error::Busy(_) => xo_result::Busy,
        Error::Internal(_) => xo_result::Internal,
        Error::UnknownOrder(_) => xo_result::UnknownOrder,
        Error::AlreadyAcknowledged(_) => xo_result::AlreadyAcknowledged,
        Error::JournalUnavailable(_) => xo_result::JournalUnavailable,
    };
    fail(code, &error.to_string())
}

/// Runs an exported function's body, turning a panic into `on_panic` and a recorded message
/// (the panic itself goes to the library's log, never to the host's stderr).
pub fn boundary<T>(name: &str, on_panic: T, body: impl FnOnce() -> T) -> T {
    crate::supervise::install_panic_hook();
    let caught =
        crate::supervise::quietly(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)));
    match caught {
        Ok(value) => value,
        Err(_) => {
            set_last_error(&format!(
                "internal error: {name} panicked; the library is still usable"
            ));
            on_panic
        }
    }
}

/// Reads a NUL-terminated UTF-8 argument of at most `max_bytes`, never scanning past `max_bytes + 1`.
///
/// # Safety
/// `ptr` must be NULL or point to memory readable up to its NUL or `max_bytes + 1` bytes.
pub unsafe fn read_str<'a>(
    name: &str,
    ptr: *const c_char,
    max_bytes: usize,
) -> Result<&'a str, xo_result> {
    if ptr.is_null() {
        return Err(fail(xo_result::NullArgument, &format!("{name} is NULL")));
    }
    let len = libc::strnlen(ptr, max_bytes + 1);
    if len > max_bytes {
        return Err(fail(
            xo_result::InvalidArgument,
            &format!("{name} is longer than {max_bytes} bytes"),
        ));
    }
    let bytes = CStr::from_ptr(ptr).to_bytes();
    std::str::from_utf8(bytes).map_err(|_| {
        fail(
            xo_result::InvalidUtf8,
            &format!("{name} is not valid UTF-8"),
        )
    })
}
