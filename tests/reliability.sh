#!/usr/bin/env bash
# Reliability checks of the built library from C, outside cargo:
#   1. dlopen_loop: dlopen, track, shutdown, dlclose, 100 times in one process (as the Unity
#      Editor does across play sessions); no crash, no thread or descriptor left behind;
#   2. tests/c/test_c_api.c and dlopen_loop under AddressSanitizer + UndefinedBehaviorSanitizer
#      (LeakSanitizer on);
#   3. test_c_api and dlopen_loop (3 rounds) under valgrind memcheck, with tests/c/valgrind.supp;
#   4. the C++ wrapper's suite (bindings/cpp/tests/test_wrapper.cpp) under valgrind.
#
#   LIB_DIR=<folder with libxo_tracker.so> SIM_BIN=<path to xo-sim> tests/reliability.sh
#
# Defaults: <repo>/target/debug and <repo>/target/debug/xo-sim. It never runs cargo (build the
# workspace first; scripts/test.sh does). Everything is built into <repo>/target/reliability/.
# XO_DLOPEN_ROUNDS sets the rounds of step 1 (default 100). Every program runs under a time limit
# (XO_RELIABILITY_LIMIT seconds, default 600; a timeout fails). A run passes when the program exits
# 0 (its own assertions hold) and the tool reports nothing. Counted as three cases, each passing
# only if all its runs pass: the dlopen loop (plain, ASan+UBSan, memcheck), test_c_api (ASan+UBSan,
# memcheck; its tests are counted by scripts/test.sh's C step) and the C++ suite (memcheck).
# Ends with "N passed, N failed" over those cases; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
lib_dir="${LIB_DIR:-$root/target/debug}"
sim_bin="${SIM_BIN:-$root/target/debug/xo-sim}"
out="$root/target/reliability"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v g++ >/dev/null || need_apt+=(g++)
command -v valgrind >/dev/null || need_apt+=(valgrind)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
for f in "$lib_dir/libxo_tracker.so" "$sim_bin"; do
  [[ -e "$f" ]] || { echo "missing $f: build the workspace first (cargo build --workspace)" >&2; exit 1; }
done

limit=${XO_RELIABILITY_LIMIT:-600}
declare -A case_ok=() # case -> 1 while every run of it passed
cases=()
# run <case> <run name> <command...>: one run of a case (output in $out/<run name>.log).
run() {
  local case="$1" name="$2"; shift 2
  local log="$out/${name//[^A-Za-z0-9+_-]/_}.log" started=$SECONDS status=0
  [[ -n ${case_ok[$case]+set} ]] || { cases+=("$case"); case_ok[$case]=1; }
  step "$name (time limit $limit s)"
  timeout -k 10 "$limit" "$@" >"$log" 2>&1 || status=$?
  tail -n 5 "$log"
  if ((status == 0)); then
    echo "ok   $name ($((SECONDS - started)) s)"
  else
    case_ok[$case]=0
    local why="exit $status"
    ((status == 124 || status == 137)) && why="TIMED OUT after $limit s"
    ((status == 97)) && why="valgrind reported errors"
    echo "FAIL $name ($why, $((SECONDS - started)) s): see $log"
    tail -n 60 "$log"
  fi
}

step "build (into $out)"
inc=(-I"$root/include" -I"$here/c")
warn=(-std=c11 -Wall -Wextra -Werror -pthread)
link=(-L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir")
san=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)
cc "${warn[@]}" -O1 -g "${inc[@]}" "$here/c/dlopen_loop.c" -ldl -o "$out/dlopen_loop"
cc "${warn[@]}" "${san[@]}" "${inc[@]}" "$here/c/dlopen_loop.c" -ldl -o "$out/dlopen_loop_asan"
cc "${warn[@]}" -O0 -g "${inc[@]}" "$here/c/test_c_api.c" "${link[@]}" -o "$out/test_c_api"
cc "${warn[@]}" "${san[@]}" "${inc[@]}" "$here/c/test_c_api.c" "${link[@]}" -o "$out/test_c_api_asan"
g++ -std=c++17 -Wall -Wextra -Werror -pthread -O1 -g -I"$root/include" -I"$root/bindings/cpp" \
  "$root/bindings/cpp/tests/test_wrapper.cpp" "${link[@]}" -o "$out/test_wrapper"

lib="$lib_dir/libxo_tracker.so"
dl="dlopen loop" capi="test_c_api" cpp="C++ wrapper suite"
run "$dl" "dlopen loop (${XO_DLOPEN_ROUNDS:-100} rounds)" \
  "$out/dlopen_loop" "$lib" "$sim_bin" "${XO_DLOPEN_ROUNDS:-100}"

# LeakSanitizer with no suppression: the library's one-time state (statics) stays reachable.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run "$capi" "test_c_api under ASan+UBSan" "$out/test_c_api_asan" "$sim_bin"
run "$dl" "dlopen loop under ASan+UBSan (20 rounds)" "$out/dlopen_loop_asan" "$lib" "$sim_bin" 20
unset ASAN_OPTIONS UBSAN_OPTIONS

# Memcheck: a run passes when valgrind reports no error (invalid access, uninitialised value,
# definite or possible leak; it then exits 97) AND the program's own assertions hold (valgrind
# exits with the program's status). The programs wait for events, not for fixed times, so
# valgrind's slowdown does not change their verdict.
memcheck=(valgrind --tool=memcheck --error-exitcode=97 --leak-check=full
  --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible
  --suppressions="$here/c/valgrind.supp" --num-callers=30)
run "$capi" "test_c_api under valgrind" "${memcheck[@]}" "$out/test_c_api" "$sim_bin"
run "$dl" "dlopen loop under valgrind (3 rounds)" "${memcheck[@]}" "$out/dlopen_loop" "$lib" "$sim_bin" 3
run "$cpp" "C++ wrapper suite under valgrind" "${memcheck[@]}" "$out/test_wrapper" "$sim_bin"

step "summary"
passed=0 failed=0
for c in "${cases[@]}"; do
  if ((case_ok[$c])); then passed=$((passed + 1)); echo "ok   $c (every run)"
  else failed=$((failed + 1)); echo "FAIL $c (at least one run failed)"; fi
done
echo "$passed passed, $failed failed"
((failed == 0))
