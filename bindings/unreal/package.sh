#!/usr/bin/env bash
# Produces a ready-to-drop Unreal plugin folder: <out>/XoTracker, with the headers and every
# native library that has been built, in the layout XoTrackerLibrary.Build.cs expects.
#
#   bindings/unreal/package.sh <out dir>
#
# Build the library first for the platforms you ship, e.g. (release builds):
#   cargo build --release --target x86_64-pc-windows-msvc        # Win64: xo_tracker.dll + .dll.lib
#   cargo build --release --target aarch64-apple-darwin          # Mac (both, merged with lipo)
#   cargo build --release --target x86_64-apple-darwin
#   cargo build --release --target x86_64-unknown-linux-gnu      # Linux
#   cargo build --release --target aarch64-unknown-linux-gnu     # LinuxArm64
#   cargo ndk -t arm64-v8a -t x86_64 build --release   # Android (UE5 builds no armeabi-v7a)
#   cargo build --release --target aarch64-apple-ios             # iOS (libxo_tracker.a)
#
# Environment: XO_TARGET_DIR (default <repo>/target), XO_PROFILE (default release),
# XO_LINUX_X64_LIB_DIR (a folder holding a host libxo_tracker.so to use for Linux x86_64, e.g.
# target/release after a plain `cargo build --release`), XO_REPOSITORY_URL (written into the
# descriptor's DocsURL, CreatedByURL and SupportURL; the release workflow passes the repository's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:?usage: package.sh <out dir>}"
target_dir="${XO_TARGET_DIR:-$root/target}"
profile="${XO_PROFILE:-release}"

mkdir -p "$out"
rm -rf "$out/XoTracker"
cp -R "$here/XoTracker" "$out/XoTracker"
lib="$out/XoTracker/Source/ThirdParty/XoTrackerLibrary"
mkdir -p "$lib/include"
cp "$root/include/xo_tracker.h" "$root/bindings/cpp/xo_tracker.hpp" "$lib/include/"
cp "$root/bindings/unreal/README.md" "$out/XoTracker/README.md"
if [[ -n "${XO_REPOSITORY_URL:-}" ]]; then
  url="${XO_REPOSITORY_URL%/}"
  sed -i.bak -e "s|\"DocsURL\": \"[^\"]*\"|\"DocsURL\": \"$url/tree/main/bindings/unreal#readme\"|" \
    -e "s|\"CreatedByURL\": \"[^\"]*\"|\"CreatedByURL\": \"$url\"|" \
    -e "s|\"SupportURL\": \"[^\"]*\"|\"SupportURL\": \"$url/issues\"|" "$out/XoTracker/XoTracker.uplugin"
  rm -f "$out/XoTracker/XoTracker.uplugin.bak"
fi

staged=()
missing=()
# stage <platform label> <source file> <destination relative to the library module>
stage() {
  local label="$1" src="$2" dst="$lib/$3"
  if [[ -f "$src" ]]; then
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
    staged+=("$label")
  else
    missing+=("$label")
  fi
}
built() { echo "$target_dir/$1/$profile/$2"; }

stage Win64 "$(built x86_64-pc-windows-msvc xo_tracker.dll)" Win64/xo_tracker.dll
stage Win64-import-lib "$(built x86_64-pc-windows-msvc xo_tracker.dll.lib)" Win64/xo_tracker.dll.lib

mac_arm="$(built aarch64-apple-darwin libxo_tracker.dylib)"
mac_x64="$(built x86_64-apple-darwin libxo_tracker.dylib)"
if [[ -f "$mac_arm" && -f "$mac_x64" ]] && command -v lipo >/dev/null; then
  mkdir -p "$lib/Mac"
  lipo -create "$mac_arm" "$mac_x64" -output "$lib/Mac/libxo_tracker.dylib"
  staged+=(Mac)
elif [[ -f "$mac_arm" ]]; then
  stage Mac-arm64-only "$mac_arm" Mac/libxo_tracker.dylib
else
  stage Mac "$mac_x64" Mac/libxo_tracker.dylib
fi

linux_x64="$(built x86_64-unknown-linux-gnu libxo_tracker.so)"
if [[ -n "${XO_LINUX_X64_LIB_DIR:-}" ]]; then linux_x64="$XO_LINUX_X64_LIB_DIR/libxo_tracker.so"; fi
stage Linux "$linux_x64" Linux/x86_64-unknown-linux-gnu/libxo_tracker.so
stage LinuxArm64 "$(built aarch64-unknown-linux-gnu libxo_tracker.so)" Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so

stage Android-arm64-v8a "$(built aarch64-linux-android libxo_tracker.so)" Android/arm64-v8a/libxo_tracker.so
stage Android-x86_64 "$(built x86_64-linux-android libxo_tracker.so)" Android/x86_64/libxo_tracker.so

stage IOS "$(built aarch64-apple-ios libxo_tracker.a)" IOS/libxo_tracker.a
# Simulator slices (aarch64-apple-ios-sim, lipo'd with x86_64-apple-ios by the release workflow).
stage IOS-simulator "$(built aarch64-apple-ios-sim libxo_tracker.a)" IOS/Simulator/libxo_tracker.a

echo "plugin: $out/XoTracker"
echo "staged: ${staged[*]:-none}"
if ((${#missing[@]})); then
  echo "not built (the plugin will not build for these): ${missing[*]}"
fi
((${#staged[@]} > 0)) || { echo "no library found under $target_dir" >&2; exit 1; }
