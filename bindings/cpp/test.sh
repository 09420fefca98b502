#!/usr/bin/env bash
# Tests the C++ wrapper (bindings/cpp/xo_tracker.hpp) and checks the Unreal plugin's sources.
#
#   LIB_DIR=<folder with libxo_tracker.so> SIM_BIN=<path to xo-sim> bindings/cpp/test.sh
#
# Defaults: <repo>/target/debug and <repo>/target/debug/xo-sim. It never runs cargo: build the
# workspace first (scripts/test.sh does). Everything is built into <repo>/target/cpp/.
#
# 1. the header alone, with strict warnings (-Wconversion, -Wshadow, -Wpedantic...), with and
#    without exceptions; and the C header alone under -Wundef -Werror in C11, gnu89 and C++17;
# 2. the suite (tests/test_wrapper.cpp) against the library and the simulator, three builds:
#    plain, -fno-exceptions -fno-rtti (as Unreal builds), and -fsanitize=address,undefined;
# 3. the Unreal plugin: every source compiled with g++ -fsyntax-only against stand-in engine
#    declarations (bindings/unreal/standin), and the plugin layout.
# Each suite build runs under a time limit (XO_CPP_SUITE_LIMIT seconds, default 300): a hang fails.
# Ends with "N passed, N failed" counting each suite test once (it passes only if it passes in
# all three builds), after a "static checks: N passed, N failed" line for 1 and 3 (not added to
# the test count); exits non-zero on any failure of either.
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

# Static checks (compiles, the Unreal plugin's layout and sources) and suite tests are counted apart.
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
suite_problems=0 # a build of the suite that crashed, timed out or exited non-zero without a FAIL
declare -A verdict=() # test name -> "ok" while it passed in every build run so far, else "FAIL"
declare -A builds_seen=() # test name -> how many builds reported it
tests_order=()
builds_run=0
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
# The C header under -Wundef -Werror (MSVC's C4668, an error in Unreal builds): in C11, in a C
# without __STDC_VERSION__ (gnu89, like MSVC's default C mode), and in C++.
printf '#include "xo_tracker.h"\n#include "xo_tracker.h"\nint main(void) { return XO_RESULT_OK; }\n' >"$out/c_header.c"
cp "$out/c_header.c" "$out/c_header.cpp"
for std in c11 gnu89; do
  check "xo_tracker.h is clean under -Wundef -Werror (C, -std=$std)" \
    gcc -std=$std -Wall -Wextra -Wundef -Werror -I"$root/include" -fsyntax-only "$out/c_header.c"
done
check "xo_tracker.h is clean under -Wundef -Werror (C++17)" \
  g++ -std=c++17 -Wall -Wextra -Wundef -Werror -I"$root/include" -fsyntax-only "$out/c_header.cpp"

step "build the suite (plain, no exceptions, sanitized)"
src="$here/tests/test_wrapper.cpp"
"${cxx[@]}" -O1 -g "$src" "${link[@]}" -o "$out/test_plain"
"${cxx[@]}" -O1 -g -fno-exceptions -fno-rtti "$src" "${link[@]}" -o "$out/test_noexcept"
"${cxx[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  "$src" "${link[@]}" -o "$out/test_sanitized"

# Runs one build of the suite under the time limit and records each test's verdict ("ok|FAIL
# <name> (<n> ms)" lines): a test passes only if it passes in every build.
suite_limit=${XO_CPP_SUITE_LIMIT:-300}
run_suite() {
  local name="$1"; shift
  step "suite: $name (time limit $suite_limit s)"
  local log="$out/$name.log" status=0 started=$SECONDS
  { rc=0; timeout -k 10 "$suite_limit" "$@" "$sim_bin" 2>&1 || rc=$?; echo "$rc" >"$log.status"; } | tee "$log"
  status=$(cat "$log.status")
  builds_run=$((builds_run + 1))
  local word test
  while read -r word test; do
    if [[ -z ${verdict[$test]+set} ]]; then tests_order+=("$test"); verdict[$test]=ok; builds_seen[$test]=0; fi
    builds_seen[$test]=$((builds_seen[$test] + 1))
    [[ $word == ok ]] || verdict[$test]=FAIL
  done < <(sed -nE 's/^(ok|FAIL) +([A-Za-z0-9_]+) \([0-9]+ ms\)$/\1 \2/p' "$log")
  local summary
  summary=$(tail -n 1 "$log")
  if ((status == 124 || status == 137)); then
    echo "FAIL suite $name TIMED OUT after $suite_limit s (a test hangs): see $log"
    suite_problems=$((suite_problems + 1))
  elif [[ ! $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
    echo "FAIL suite $name ended without a summary line (exit $status): see $log"
    suite_problems=$((suite_problems + 1))
  elif ((status != 0)) && [[ $summary == *" 0 failed" ]]; then
    echo "FAIL suite $name exited with $status although no test failed"
    suite_problems=$((suite_problems + 1))
  fi
  echo "build $name: $summary (exit $status) in $((SECONDS - started)) s"
}

run_suite plain "$out/test_plain"
run_suite noexcept "$out/test_noexcept"
# LeakSanitizer runs too, with no suppression: the Rust library's allocations go through the
# intercepted malloc, and its one-time state (statics) stays reachable, so nothing is reported.
# UBSan stops at the first finding.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  run_suite sanitized "$out/test_sanitized"

# Chaos pass against xo-sim --chaos SEED (tests/test_chaos.cpp): one more test (not a build of
# the suite above), passing only if the whole pass passes.
"${cxx[@]}" -O1 -g "$here/tests/test_chaos.cpp" "${link[@]}" -o "$out/test_chaos"
run_suite chaos "$out/test_chaos"
builds_run=$((builds_run - 1))
tests_order+=(chaos_pass)
builds_seen[chaos_pass]=$builds_run
if [[ $(cat "$out/chaos.log.status") == 0 && $(tail -n 1 "$out/chaos.log") == *" 0 failed" ]]; then
  verdict[chaos_pass]=ok
else
  verdict[chaos_pass]=FAIL
fi

step "Unreal plugin: sources against stand-in engine declarations"
{ rc=0; LIB_DIR="$lib_dir" timeout -k 10 300 "$root/bindings/unreal/check.sh" "$out/unreal" || rc=$?; echo "$rc" >"$out/unreal.status"; } |
  tee "$out/unreal.log"
status=$(cat "$out/unreal.status")
summary=$(tail -n 1 "$out/unreal.log")
if [[ ! $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
  fail "unreal check ended without a summary line (exit $status)"
else
  read -r p _ f _ <<<"$summary"
  passed=$((passed + p))
  failed=$((failed + f))
  if ((status != 0 && f == 0)); then fail "unreal check exited with $status although no check failed"; fi
fi

step "summary"
tests_passed=0 tests_failed=0
for test in "${tests_order[@]}"; do
  # A test missing from a build (it crashed or hung before reaching it) did not pass there.
  if [[ ${verdict[$test]} == ok ]] && ((builds_seen[$test] == builds_run)); then
    tests_passed=$((tests_passed + 1))
  else
    tests_failed=$((tests_failed + 1))
    echo "FAIL $test (in at least one of the $builds_run builds)"
  fi
done
tests_failed=$((tests_failed + suite_problems))
echo "static checks: $passed passed, $failed failed"
echo "$tests_passed passed, $tests_failed failed"
((failed == 0 && tests_failed == 0))
