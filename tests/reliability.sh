#!/usr/bin/env bash
# Reliability checks of the built library from C, outside cargo:
#   1. dlopen_loop: dlopen, track, shutdown, dlclose, 100 times in one process (as the Unity
#      Editor does across play sessions); no crash, no thread or descriptor left behind;
#   2. tests/c/test_c_api.c and dlopen_loop under AddressSanitizer + UndefinedBehaviorSanitizer
#      (LeakSanitizer on);
#   3. test_c_api and dlopen_loop (3 rounds) under valgrind memcheck, with tests/c/valgrind.supp;
#   4. the C++ wrapper's suite under valgrind, when bindings/cpp/test.sh has built it.
#
#   LIB_DIR=<folder with libxo_tracker.so> SIM_BIN=<path to xo-sim> tests/reliability.sh
#
# Defaults: <repo>/target/debug and <repo>/target/debug/xo-sim. It never runs cargo (build the
# workspace first; scripts/test.sh does). Everything is built into <repo>/target/reliability/.
# XO_DLOPEN_ROUNDS sets the rounds of step 1 (default 100). Ends with "N passed, N failed"
# (one check per program run); exits non-zero on any failure.
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
command -v valgrind >/dev/null || need_apt+=(valgrind)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
for f in "$lib_dir/libxo_tracker.so" "$sim_bin"; do
  [[ -e "$f" ]] || { echo "missing $f: build the workspace first (cargo build --workspace)" >&2; exit 1; }
done

passed=0
failed=0
# Runs one program (its output in $out/<name>.log) as one check.
check() {
  local name="$1"; shift
  local log="$out/$name.log" started=$SECONDS status=0
  step "$name"
  "$@" >"$log" 2>&1 || status=$?
  tail -n 5 "$log"
  if ((status == 0)); then
    passed=$((passed + 1))
    echo "ok   $name ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    echo "FAIL $name (exit $status, $((SECONDS - started)) s): see $log"
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

lib="$lib_dir/libxo_tracker.so"
check "dlopen loop (${XO_DLOPEN_ROUNDS:-100} rounds)" \
  "$out/dlopen_loop" "$lib" "$sim_bin" "${XO_DLOPEN_ROUNDS:-100}"

# LeakSanitizer with no suppression: the library's one-time state (statics) stays reachable.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
check "test_c_api under ASan+UBSan" "$out/test_c_api_asan" "$sim_bin"
check "dlopen loop under ASan+UBSan (20 rounds)" "$out/dlopen_loop_asan" "$lib" "$sim_bin" 20
unset ASAN_OPTIONS UBSAN_OPTIONS

# Memcheck: the check passes when valgrind reports no error (invalid access, uninitialised value,
# definite or possible leak): valgrind then exits with the program's own status. The programs'
# own assertions are checked by the runs above; under valgrind's ~30x slowdown a few of their
# real-time expectations can miss (e.g. test_c_api expects to see "new" before a "done" that
# comes 300 ms later), so their verdict is shown but not counted here.
memcheck=(valgrind --tool=memcheck --error-exitcode=97 --leak-check=full
  --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible
  --suppressions="$here/c/valgrind.supp" --num-callers=30)
under_memcheck() {
  local status=0
  "${memcheck[@]}" "$@" || status=$?
  if ((status == 97)); then return 1; fi
  if ((status != 0)); then echo "(the program itself exited with $status: not a memcheck finding)"; fi
  return 0
}
check "test_c_api under valgrind" under_memcheck "$out/test_c_api" "$sim_bin"
check "dlopen loop under valgrind (3 rounds)" under_memcheck "$out/dlopen_loop" "$lib" "$sim_bin" 3

cpp="$root/target/cpp/test_plain"
if [[ -x "$cpp" ]]; then
  check "C++ wrapper suite under valgrind" under_memcheck "$cpp" "$sim_bin"
else
  step "C++ wrapper suite under valgrind: skipped ($cpp not built; bindings/cpp/test.sh builds it)"
fi

step "summary"
echo "$passed passed, $failed failed"
((failed == 0))
