#!/usr/bin/env bash
# Tests the C# binding under Mono against the real native library and the xo-sim simulator.
# Does not build the Rust code: set LIB_DIR (folder with libxo_tracker.so) and SIM_BIN (xo-sim),
# default <repo>/target/debug. Compiles into <repo>/target/csharp. Ends with "N passed, N failed".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lib_dir="$(realpath -m "${LIB_DIR:-$root/target/debug}")"
sim_bin="$(realpath -m "${SIM_BIN:-$root/target/debug/xo-sim}")"
out="$root/target/csharp"

if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
  echo "==> installing mono (mono-mcs mono-runtime)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mono-mcs mono-runtime >/dev/null
fi
[[ -f "$lib_dir/libxo_tracker.so" ]] || { echo "no $lib_dir/libxo_tracker.so: build with cargo build --workspace" >&2; exit 1; }
[[ -x "$sim_bin" ]] || { echo "no simulator at $sim_bin" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/unity" "$out/unity-ios" "$out/unity-webgl"
cd "$here"
runtime=()
while IFS= read -r -d '' f; do runtime+=("$f"); done < <(find Runtime -name '*.cs' -print0 | sort -z)
mcs_flags=(-nologo -debug -warn:4 -warnaserror+ -langversion:7)
unity_defines="UNITY_5_3_OR_NEWER;UNITY_2021_3_OR_NEWER"

echo "==> compiling the binding (plain Mono), the Unity-flavoured builds (stubbed UnityEngine/UnityEditor) and the tests"
mcs "${mcs_flags[@]}" -target:library -out:"$out/Xo.Tracker.dll" "${runtime[@]}"
mcs -nologo -target:library -out:"$out/unity/UnityEngine.dll" Tests~/UnityStubs/UnityStubs.cs
mcs "${mcs_flags[@]}" -target:library -define:"$unity_defines;UNITY_EDITOR;UNITY_STANDALONE_LINUX" \
  -r:"$out/unity/UnityEngine.dll" -out:"$out/unity/Xo.Tracker.dll" "${runtime[@]}"
mcs "${mcs_flags[@]}" -target:library -define:"$unity_defines;UNITY_EDITOR" -r:"$out/unity/UnityEngine.dll" \
  -r:"$out/unity/Xo.Tracker.dll" -out:"$out/unity/Xo.Tracker.Editor.dll" Editor/*.cs
mcs -nologo -warn:4 -warnaserror+ -target:library -define:"$unity_defines" -r:"$out/unity/UnityEngine.dll" \
  -r:"$out/unity/Xo.Tracker.dll" -out:"$out/unity/PurchaseFlowSample.dll" Samples~/PurchaseFlow/*.cs
mcs "${mcs_flags[@]}" -target:library -define:"$unity_defines;UNITY_IOS" -r:"$out/unity/UnityEngine.dll" \
  -out:"$out/unity-ios/Xo.Tracker.iOS.dll" "${runtime[@]}"
# WebGL player: the same sources with UNITY_WEBGL (no DllImport); the sample must still compile.
mcs "${mcs_flags[@]}" -target:library -define:"$unity_defines;UNITY_WEBGL" -r:"$out/unity/UnityEngine.dll" \
  -out:"$out/unity-webgl/Xo.Tracker.dll" "${runtime[@]}"
mcs -nologo -warn:4 -warnaserror+ -target:library -define:"$unity_defines;UNITY_WEBGL" -r:"$out/unity/UnityEngine.dll" \
  -r:"$out/unity-webgl/Xo.Tracker.dll" -out:"$out/unity-webgl/PurchaseFlowSample.dll" Samples~/PurchaseFlow/*.cs
# The tests compile against the Unity build (a superset of the API) and run against each build.
mcs "${mcs_flags[@]}" -target:exe -out:"$out/Xo.Tracker.Tests.exe" -r:"$out/unity/Xo.Tracker.dll" \
  -r:"$out/unity/UnityEngine.dll" -r:System.Core.dll Tests~/Mono/*.cs
for dir in "$out" "$out/unity-ios" "$out/unity-webgl"; do cp "$out/unity/UnityEngine.dll" "$dir/"; done
for dir in "$out/unity" "$out/unity-webgl"; do cp "$out/Xo.Tracker.Tests.exe" "$dir/"; done # run in AppDomains there

# DllImport("xo_tracker") -> libxo_tracker.so: found through LD_LIBRARY_PATH, and pinned by dllmap.
for dir in "$out" "$out/unity"; do
  cat >"$dir/Xo.Tracker.dll.config" <<EOF
<configuration>
  <dllmap dll="xo_tracker" target="$lib_dir/libxo_tracker.so"/>
</configuration>
EOF
done

echo "==> running the C# suite (bounded: 300 s)"
export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
timeout 300 mono --debug "$out/Xo.Tracker.Tests.exe" "$sim_bin" "$root/include/xo_tracker.h" "$here" "$out" \
  2>&1 | tee "$out/test.log"
exit "${PIPESTATUS[0]}"
