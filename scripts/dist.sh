#!/usr/bin/env bash
# Builds the release library and lays out the versioned bundle target/dist/xo-tracker-<version>/
# (and its .tar.gz), then checks it with scripts/check_dist.sh.
#
#   scripts/dist.sh                    # the Linux x86_64 library, built here
#   scripts/dist.sh --prebuilt DIR     # plus what the release workflow built elsewhere:
#        DIR/linux-x86_64/  libxo_tracker.so, libxo_tracker.a  (glibc 2.17 build; replaces the local one)
#        DIR/macos-universal/libxo_tracker.dylib   DIR/windows-x86_64/xo_tracker.dll, .dll.lib, .lib
#        DIR/linux-arm64/libxo_tracker.so          DIR/android/<abi>/libxo_tracker.so (arm64-v8a, armeabi-v7a, x86_64)
#        DIR/ios/libxo_tracker.a, libxo_tracker_sim.a (simulator: arm64 + x86_64), XoTracker.xcframework
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prebuilt=""
if [[ "${1:-}" == --prebuilt ]]; then prebuilt=$(realpath "${2:?--prebuilt needs a folder}"); fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name="xo-tracker-$version"
dist="$root/target/dist"
out="$dist/$name"
tree="$dist/tree" # target-like tree: <triple>/release/<files>, what bindings/unreal/package.sh reads
rm -rf "$out" "$tree" "$dist/$name.tar.gz"
mkdir -p "$out/lib"

put() { # put <triple> <file>: stage one built file for a platform, if it exists
  [[ -e "$2" ]] || return 0
  mkdir -p "$tree/$1/release"
  cp -R "$2" "$tree/$1/release/"
}

if [[ -n "$prebuilt" && -d "$prebuilt/linux-x86_64" ]]; then
  linux="$prebuilt/linux-x86_64"
else
  echo "==> cargo build --release --lib"
  cargo build --release --lib --quiet
  linux="$root/target/release"
fi
put x86_64-unknown-linux-gnu "$linux/libxo_tracker.so"
put x86_64-unknown-linux-gnu "$linux/libxo_tracker.a"
if [[ -n "$prebuilt" ]]; then
  for f in xo_tracker.dll xo_tracker.dll.lib xo_tracker.lib; do put x86_64-pc-windows-msvc "$prebuilt/windows-x86_64/$f"; done
  put x86_64-apple-darwin "$prebuilt/macos-universal/libxo_tracker.dylib" # universal (arm64 + x86_64)
  put aarch64-linux-android "$prebuilt/android/arm64-v8a/libxo_tracker.so"
  put armv7-linux-androideabi "$prebuilt/android/armeabi-v7a/libxo_tracker.so"
  put x86_64-linux-android "$prebuilt/android/x86_64/libxo_tracker.so"
  put aarch64-unknown-linux-gnu "$prebuilt/linux-arm64/libxo_tracker.so"
  put aarch64-apple-ios "$prebuilt/ios/libxo_tracker.a"
  if [[ -e "$prebuilt/ios/libxo_tracker_sim.a" ]]; then # simulator slices, named like the others
    mkdir -p "$tree/aarch64-apple-ios-sim/release"
    cp "$prebuilt/ios/libxo_tracker_sim.a" "$tree/aarch64-apple-ios-sim/release/libxo_tracker.a"
  fi
  put aarch64-apple-ios "$prebuilt/ios/XoTracker.xcframework"
fi
for dir in "$tree"/*/release; do
  triple=$(basename "$(dirname "$dir")")
  mkdir -p "$out/lib/$triple"
  cp -R "$dir"/. "$out/lib/$triple/"
done

echo "==> headers, C++ wrapper, documents"
mkdir -p "$out/include" "$out/bindings/cpp"
cp include/xo_tracker.h "$out/include/"
cp bindings/cpp/xo_tracker.hpp bindings/cpp/README.md "$out/bindings/cpp/"
cp README.md LICENSE CHANGELOG.md "$out/"

echo "==> Unity package with its native libraries in Plugins/, and its UPM tarball"
unity="$out/bindings/unity/com.xo.tracker"
mkdir -p "$unity"
(cd bindings/csharp && tar --exclude='./Tests~' --exclude='./Tools~' --exclude='./test.sh' --exclude='./test.sh.meta' \
  --exclude='./.gitignore' -cf - .) | tar -C "$unity" -xf -
place() { # place <file in tree> <path under Plugins/>: the binary, its .meta, its folders' .meta
  [[ -e "$tree/$1" ]] || return 0
  local metas="bindings/csharp/Tools~/plugin-meta" dir
  mkdir -p "$(dirname "$unity/Plugins/$2")"
  cp -R "$tree/$1" "$unity/Plugins/$2"
  cp "$metas/Plugins/$2.meta" "$unity/Plugins/$2.meta"
  dir=$(dirname "Plugins/$2")
  while [[ "$dir" != . ]]; do
    cp "$metas/$dir.meta" "$unity/$dir.meta"
    dir=$(dirname "$dir")
  done
}
place x86_64-unknown-linux-gnu/release/libxo_tracker.so Linux/x86_64/libxo_tracker.so
place x86_64-pc-windows-msvc/release/xo_tracker.dll Windows/x86_64/xo_tracker.dll
place x86_64-apple-darwin/release/libxo_tracker.dylib macOS/libxo_tracker.dylib
place aarch64-linux-android/release/libxo_tracker.so Android/arm64-v8a/libxo_tracker.so
place armv7-linux-androideabi/release/libxo_tracker.so Android/armeabi-v7a/libxo_tracker.so
place aarch64-apple-ios/release/libxo_tracker.a iOS/libxo_tracker.a
place aarch64-apple-ios-sim/release/libxo_tracker.a iOS/Simulator/libxo_tracker.a # arm64 + x86_64 simulator

upm_tarball() { # <package folder> <output .tgz>: what `npm pack` makes and Unity's "Add package from tarball" reads
  local stage
  stage=$(mktemp -d)
  cp -R "$1" "$stage/package"
  find "$stage/package" -type d -exec chmod 755 {} + && find "$stage/package" -type f -exec chmod 644 {} +
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' -cf - package \
    | gzip -9n >"$2"
  rm -rf "$stage"
}
upm_tarball "$unity" "$out/bindings/unity/com.xo.tracker-$version.tgz"
cp "$out/bindings/unity/com.xo.tracker-$version.tgz" "$dist/" # also beside the bundle, for a release asset

echo "==> Unreal plugin with its ThirdParty libraries"
XO_TARGET_DIR="$tree" XO_PROFILE=release bindings/unreal/package.sh "$out/bindings/unreal"

echo "==> checksums and archive"
(cd "$out" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)
tar -C "$dist" -czf "$dist/$name.tar.gz" "$name"
rm -rf "$tree"
echo "bundle: $dist/$name.tar.gz ($(du -sh "$dist/$name.tar.gz" | cut -f1))"

scripts/check_dist.sh "$out"
