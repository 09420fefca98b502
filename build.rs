//! Generates `include/xo_tracker.h` from `src/ffi` with cbindgen.
//!
//! The header is always generated into `$OUT_DIR`; outside CI it is also written to `include/`
//! when it changed. In CI (`CI` set) the committed header is left alone, and the `header_is_current`
//! test fails if it differs from the generated one.

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
    bindings.write_to_file(out_dir.join("xo_tracker.h"));
    if std::env::var_os("CI").is_none() {
        bindings.write_to_file(crate_dir.join("include").join("xo_tracker.h"));
    }
}
