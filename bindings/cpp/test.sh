#!/usr/bin/env bash
# Tests the C++ wrapper (bindings/cpp/xo_tracker.hpp) and checks the Unreal plugin's sources.
#
#   LIB_DIR=<folder with libxo_tracker.so> SIM_BIN=<path to xo-sim> bindings/cpp/test.sh
#
# Defaults: <repo>/target/debug and <repo>/target/debug/xo-sim. It never runs cargo: build the
# workspace first (scripts/test.sh does). Everything is built into <repo>/target/cpp/.
#
# 1. the header alone, with strict warnings (-Wconversion, -Wshadow, -Wpedantic...), with and
#    without exceptions;
# 2. the suite (tests/test_wrapper.cpp) against the library and the simulator, three builds:
#    plain, -fno-exceptions -fno-rtti (as Unreal builds), and -fsanitize=address,undefined;
# 3. the Unreal plugin: every source compiled with g++ -fsyntax-only against stand-in engine
#    declarations (bindings/unreal/standin), and the plugin layout.
# Ends with "N passed, N failed" over everything; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lib_dir="${LIB_DIR:-$root/target/debug}"
sim_bin="${SIM_BIN:-$root/target/debug/xo-sim}"
out="$root/target/cpp"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }

if ! command -v g++ >/dev/null; then
  step "installing g++"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
fi
for f in "$lib_dir/libxo_tracker.so" "$sim_bin"; do
  [[ -e "$f" ]] || { echo "missing $f: build the workspace first (cargo build --workspace)" >&2; exit 1; }
done

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# Runs a command counted as one check.
check() {
  local name="$1"; shift
  if "$@" >"$out/check.log" 2>&1; then pass "$name"; else fail "$name"; cat "$out/check.log"; fi
}

cxx=(g++ -std=c++17 -Wall -Wextra -Werror -pthread -I"$root/include" -I"$here")
link=(-L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir")

step "the header alone, strict warnings"
strict=(-Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor
        -Wundef -Wcast-qual -Wzero-as-null-pointer-constant)
printf '#include "xo_tracker.hpp"\n#include "xo_tracker.hpp"\nint main() { return xo::abi_compatible() ? 0 : 1; }\n' \
  >"$out/header_only.cpp"
check "xo_tracker.hpp compiles standalone (exceptions on)" \
  "${cxx[@]}" "${strict[@]}" -fsyntax-only "$out/header_only.cpp"
check "xo_tracker.hpp compiles standalone (-fno-exceptions -fno-rtti)" \
  "${cxx[@]}" "${strict[@]}" -fno-exceptions -fno-rtti -fsyntax-only "$out/header_only.cpp"

step "build the suite (plain, no exceptions, sanitized)"
src="$here/tests/test_wrapper.cpp"
"${cxx[@]}" -O1 -g "$src" "${link[@]}" -o "$out/test_plain"
"${cxx[@]}" -O1 -g -fno-exceptions -fno-rtti "$src" "${link[@]}" -o "$out/test_noexcept"
"${cxx[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  "$src" "${link[@]}" -o "$out/test_sanitized"

# Runs one build of the suite and adds its "N passed, N failed" line to the totals.
run_suite() {
  local name="$1"; shift
  step "suite: $name"
  local log="$out/$name.log" status=0 started=$SECONDS
  "$@" "$sim_bin" 2>&1 | tee "$log" || status=$?
  local summary
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
  if [[ -z "$summary" ]]; then
    fail "suite $name ended without a summary (exit $status)"
    return
  fi
  local p f
  read -r p _ f _ <<<"$summary"
  passed=$((passed + p))
  failed=$((failed + f))
  if ((status != 0 && f == 0)); then fail "suite $name exited with $status"; fi
  echo "suite $name: $summary in $((SECONDS - started)) s"
}

run_suite plain "$out/test_plain"
run_suite noexcept "$out/test_noexcept"
# LeakSanitizer runs too, with no suppression: the Rust library's allocations go through the
# intercepted malloc, and its one-time state (statics) stays reachable, so nothing is reported.
# UBSan stops at the first finding.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  run_suite sanitized "$out/test_sanitized"

# Chaos pass against xo-sim --chaos SEED (tests/test_chaos.cpp).
"${cxx[@]}" -O1 -g "$here/tests/test_chaos.cpp" "${link[@]}" -o "$out/test_chaos"
run_suite chaos "$out/test_chaos"

step "Unreal plugin: sources against stand-in engine declarations"
LIB_DIR="$lib_dir" "$root/bindings/unreal/check.sh" "$out/unreal" | tee "$out/unreal.log" || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/unreal.log" | tail -n 1 || true)
if [[ -z "$summary" ]]; then
  fail "unreal check ended without a summary"
else
  read -r p _ f _ <<<"$summary"
  passed=$((passed + p))
  failed=$((failed + f))
fi

step "summary"
echo "$passed passed, $failed failed"
((failed == 0))
