//! Generates `include/xo_tracker.h` from `src/ffi` with cbindgen.
//!
//! The header is always generated into `$OUT_DIR`; outside CI it is also written to `include/`
//! when it changed. In CI (`CI` set) the committed header is left alone, and the `header_is_current`
//! test fails if it differs from the generated one.
//!
//! cbindgen 0.29.4 writes `#if __STDC_VERSION__ >= 202311L` (C23 typed enums) with no
//! `defined(...)`, which `-Wundef -Werror` (and MSVC's C4668, an error in Unreal builds) rejects
//! where the macro is undefined (C++, MSVC's default C): [`guard_stdc_version`] adds the guard.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");

    // Unloading while a runtime thread still runs its TLS destructors would crash: keep the
    // library resident once loaded (dlclose becomes a no-op), as the Unity Editor expects anyway.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
        // Hosts that link by full path (Unreal's build tool) then record this name, not the path.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libxo_tracker.so");
        // Google Play requires 16 KB page alignment of every .so (Android 15 devices may use 16 KB
        // pages); Linux builds the same way, so scripts/check_dist.sh verifies it on this machine.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }

    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let bindings = match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(b) => b,
        Err(e) => {
            // A syntax error in src/ is reported by rustc itself, more clearly.
            println!("cargo:warning=cbindgen could not generate the header: {e}");
            return;
        }
    };
    let mut raw = Vec::new();
    bindings.write(&mut raw);
    let header = guard_stdc_version(&String::from_utf8(raw).expect("cbindgen writes UTF-8"));
    write_if_changed(&out_dir.join("xo_tracker.h"), &header);
    if std::env::var_os("CI").is_none() {
        write_if_changed(&crate_dir.join("include").join("xo_tracker.h"), &header);
    }
}

/// Makes every use of `__STDC_VERSION__` in a preprocessor condition safe where it is undefined.
fn guard_stdc_version(header: &str) -> String {
    header.replace(
        "__STDC_VERSION__ >= 202311L",
        "(defined(__STDC_VERSION__) && __STDC_VERSION__ >= 202311L)",
    )
}

fn write_if_changed(path: &std::path::Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("the header can be written");
    }
}
