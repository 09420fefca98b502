#!/usr/bin/env bash
# Tests the C# binding under Mono against the real native library and the xo-sim simulator.
# Does not build the Rust code: set LIB_DIR (folder with libxo_tracker.so) and SIM_BIN (xo-sim),
# default <repo>/target/debug. Compiles into <repo>/target/csharp. Runs the suite twice: JIT, then
# full AOT (like IL2CPP). Ends with "N passed, N failed".
#   test.sh --bench   benchmark mode instead: managed allocations per Dispatch and per event, and
#                     the time of an idle Dispatch, under JIT and under full AOT (BENCHMARKS.md).
set -euo pipefail
mode=test
[[ "${1:-}" == --bench ]] && mode=bench
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
mkdir -p "$out/unity-android" # the UNITY_ANDROID code (AndroidTrust) must compile too
mcs "${mcs_flags[@]}" -target:library -define:"$unity_defines;UNITY_ANDROID" -r:"$out/unity/UnityEngine.dll" \
  -out:"$out/unity-android/Xo.Tracker.Android.dll" "${runtime[@]}"
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

export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$out" # a Mono crash report (mono_crash.*.json) lands here, not in the package
args=("$sim_bin" "$root/include/xo_tracker.h" "$here")
if [[ $mode == bench ]]; then
  echo "==> C# benchmark mode, JIT (bounded: 120 s)"
  timeout 120 mono "$out/Xo.Tracker.Tests.exe" --bench "$sim_bin"
else
  echo "==> running the C# suite (JIT; bounded: 300 s)"
  set +e
  timeout 300 mono --debug "$out/Xo.Tracker.Tests.exe" "${args[@]}" "$out" 2>&1 | tee "$out/jit.log"
  jit_rc=${PIPESTATUS[0]}
  set -e
fi

# Full AOT: no JIT at run time, as under IL2CPP. Reverse P/Invoke works only into static methods
# marked [MonoPInvokeCallback], and code generated at run time (Reflection.Emit, missing generic
# instantiations) fails. Debian's Mono loads corlib from its own prefix, so the framework
# assemblies are AOT-compiled in a private copy of that prefix (target/csharp/aot), and found
# there through MONO_PATH (the copy has no GAC).
echo "==> compiling the framework, the binding and the tests with mono --aot=full"
aot="$out/aot"
run="$aot/run"
mkdir -p "$aot/bin" "$aot/lib/mono/4.5" "$aot/etc" "$run"
cp "$(readlink -f "$(command -v mono)")" "$aot/bin/mono"
cp -L /usr/lib/mono/4.5/*.dll "$aot/lib/mono/4.5/"
cp -L /usr/lib/libmono-native.so "$aot/lib/" # corlib's native half, looked up beside the prefix
cp -R /etc/mono "$aot/etc/mono"
(cd "$out" && cp -R ./*.dll ./*.exe ./*.config unity unity-ios unity-webgl "$run/")
aot_compile() { # <assembly>...: AOT-compiles each in its own folder (references resolve there)
  local a
  for a in "$@"; do
    MONO_PATH="$(dirname "$a"):$aot/lib/mono/4.5" "$aot/bin/mono" --aot=full "$a" >"$a.aot.log" 2>&1 ||
      { cat "$a.aot.log" >&2; echo "mono --aot=full $a failed" >&2; return 1; }
  done
}
framework=("$aot"/lib/mono/4.5/*.dll)
aot_compile "${framework[@]:0:${#framework[@]}/2}" &
aot_compile "${framework[@]:${#framework[@]}/2}"
wait $!
aot_compile "$run"/*.dll "$run"/*.exe "$run"/unity/*.dll "$run"/unity/*.exe "$run"/unity-ios/*.dll \
  "$run"/unity-webgl/*.dll "$run"/unity-webgl/*.exe
if [[ $mode == bench ]]; then
  echo "==> C# benchmark mode, full AOT (bounded: 120 s)"
  XO_FULL_AOT=1 MONO_PATH="$aot/lib/mono/4.5" timeout 120 "$aot/bin/mono" --full-aot "$run/Xo.Tracker.Tests.exe" --bench "$sim_bin"
  exit 0
fi
echo "==> running the C# suite under full AOT (bounded: 300 s)"
set +e
XO_FULL_AOT=1 MONO_PATH="$aot/lib/mono/4.5" timeout 300 "$aot/bin/mono" --full-aot --debug "$run/Xo.Tracker.Tests.exe" "${args[@]}" "$run" 2>&1 | tee "$out/aot.log"
aot_rc=${PIPESTATUS[0]}
set -e

summary() { tail -n 1 "$1" | awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $1, $3; found=1} END {if (!found) print 0, 1}'; }
read -r jp jf < <(summary "$out/jit.log")
read -r ap af < <(summary "$out/aot.log")
((jit_rc == 0 || jf > 0)) || jf=$((jf + 1)) # a crash without a failed check still fails
((aot_rc == 0 || af > 0)) || af=$((af + 1))
{
  echo "C# JIT: $jp passed, $jf failed; full AOT: $ap passed, $af failed"
  echo "$((jp + ap)) passed, $((jf + af)) failed"
} | tee "$out/test.log"
((jf + af == 0))
