//! Semantic versioning: the crate, the C ABI, the Unity package, the Unreal plugin and the
//! changelog tell one story. The C ABI version is the crate's breaking-change number (the major
//! version, or the minor one while the major is 0).

#[path = "common/watchdog.rs"]
mod watchdog;

use std::fs;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_string(text: &str, key: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key}"))
        .to_owned()
}

#[test]
fn the_abi_version_is_the_crates_breaking_change_number() {
    let _watchdog = watchdog::arm();
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u32>().expect("numeric version"));
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    let breaking = if major == 0 { minor } else { major };
    assert_eq!(xo_tracker::ffi::XO_ABI_VERSION, breaking, "crate {version}");
    assert_eq!(xo_tracker::ffi::xo_abi_version(), breaking);
    let reported = unsafe { std::ffi::CStr::from_ptr(xo_tracker::ffi::xo_version()) };
    assert_eq!(reported.to_str().unwrap(), version);
}

#[test]
fn packages_and_changelog_carry_the_crate_version() {
    let _watchdog = watchdog::arm();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        json_string(&read("bindings/csharp/package.json"), "version"),
        version,
        "Unity package.json"
    );
    let uplugin = read("bindings/unreal/XoTracker/XoTracker.uplugin");
    assert_eq!(
        json_string(&uplugin, "VersionName"),
        version,
        "Unreal .uplugin VersionName"
    );
    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find(|l| l.starts_with("## "))
        .expect("a version heading");
    assert!(
        newest.starts_with(&format!("## {version} ")),
        "CHANGELOG.md starts with {newest:?}"
    );
    let unity_changelog = read("bindings/csharp/CHANGELOG.md");
    assert!(
        unity_changelog.contains(&format!("## [{version}]"))
            || unity_changelog.contains(&format!("## {version}"))
    );
}
