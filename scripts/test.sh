#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the Rust suites (library, simulator, and
# the header check: in CI the build leaves include/ alone, so a stale committed header fails
# tests/header.rs), and the C program against the built library and the simulator.
# Installs what a fresh Debian machine lacks. One build is shared by every step.
#
# Every step ends with "N passed, M failed" counting tests or cases (never repeated assertions or
# variants of one suite); declaration and static checks are shown on their own lines, not counted.
# A step that fails, times out (each has a wall-clock limit), or ends without its summary line
# counts as one more failure; the last line is the total, and the script exits non-zero unless it
# says "0 failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
# Real proxy servers for tests/network.rs and tests/proxy_env.rs (Linux: HTTP CONNECT, SOCKS5).
if [[ "$(uname -s)" == Linux ]]; then
  command -v tinyproxy >/dev/null || need_apt+=(tinyproxy)
  command -v microsocks >/dev/null || need_apt+=(microsocks)
fi
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
command -v cargo >/dev/null || { echo "cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }

step "format and lints"
total_passed=0 total_failed=0 report=()
# add <label> <summary> [note]: adds one step's "N passed, M failed" to the totals and the report.
add() {
  local p f
  read -r p _ f _ <<<"$2"
  total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
  report+=("$(printf '%-12s %s%s' "$1:" "$2" "${3:+  ($3)}")")
}
step_log() { echo "target/steps/${1//[^A-Za-z0-9]/_}.log"; }
# suite <label> <time limit, s> <command...>: runs a step whose last line of output is its
# "N passed, M failed"; a non-zero exit, a timeout or a missing summary line is one more failure.
# With one_case=1, the step's checks are layout checks: shown, but the step counts as one case.
one_case=0
suite() {
  local label=$1 limit=$2
  shift 2
  local log status summary
  log=$(step_log "$label")
  mkdir -p target/steps
  { status=0; timeout -k 10 "$limit" "$@" 2>&1 || status=$?; echo "$status" >"$log.status"; } | tee "$log"
  status=$(cat "$log.status")
  summary=$(tail -n 1 "$log")
  if ((status == 124 || status == 137)); then
    echo "FAIL $label: TIMED OUT after $limit s" >&2
    [[ $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]] || summary="0 passed, 0 failed"
    add "$label" "$(awk '{print $1" passed, "$3+1" failed"}' <<<"$summary")" "timed out after $limit s"
  elif [[ ! $summary =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
    echo "FAIL $label: no summary line (exit $status)" >&2
    add "$label" "0 passed, 1 failed" "no summary line, exit $status"
  elif ((status != 0)) && [[ $summary == *" 0 failed" ]]; then
    echo "FAIL $label: exited with $status although it counted no failure" >&2
    add "$label" "$(awk '{print $1" passed, 1 failed"}' <<<"$summary")" "exit $status"
  elif ((one_case)); then
    if [[ $summary == *" 0 failed" ]]; then add "$label" "1 passed, 0 failed" "its checks: $summary, not in the total"
    else add "$label" "0 passed, 1 failed" "its checks: $summary, not in the total"; fi
  else
    add "$label" "$summary"
  fi
}
lints=0
cargo fmt --all --check || lints=1
cargo clippy --workspace --all-targets --quiet -- -D warnings || lints=1
cargo clippy --quiet --features fault-injection --test supervision -- -D warnings || lints=1
if ((lints)); then add "lints" "0 passed, 1 failed" "cargo fmt or clippy failed"; fi

step "build (debug, shared by every suite below)"
if ! cargo build --workspace --all-targets --quiet; then
  echo "the build failed: nothing else can run" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
lib_dir="$root/target/debug"
sim_bin="$lib_dir/xo-sim"

# Every Rust test has an in-process wall-clock watchdog (tests/common/watchdog.rs: 120 s unless
# the test says otherwise) that fails it, naming it, instead of hanging; this outer limit only
# catches what has none (doc tests). --no-fail-fast: a failing test binary does not keep the
# others from running (and being counted).
step "Rust tests (each test under a wall-clock watchdog)"
# The supervision suite needs the test-only fault-injection feature (a second, small build).
{
  status=0
  timeout -k 10 1500 cargo test --workspace --no-fail-fast --quiet 2>&1 || status=$?
  timeout -k 10 600 cargo test --quiet --features fault-injection --test supervision 2>&1 || status=$?
  echo "$status" >target/rust-tests.status
} | tee target/rust-tests.log
status=$(cat target/rust-tests.status)
rust_summary=$(grep -E '^test result:' target/rust-tests.log | awk '{p+=$4; f+=$6} END {print p+0" passed, "f+0" failed"}')
if ((status == 124 || status == 137)); then
  add "rust" "$(awk '{print $1" passed, "$3+1" failed"}' <<<"$rust_summary")" "TIMED OUT after 1500 s"
elif ((status != 0)) && [[ $rust_summary == *" 0 failed" ]]; then
  # A test binary that died (e.g. its watchdog fired) prints no "test result" line.
  add "rust" "$(awk '{print $1" passed, 1 failed"}' <<<"$rust_summary")" "cargo test exited with $status"
else
  add "rust" "$rust_summary"
fi

step "C ABI test (header only, -Wall -Wextra -Werror)"
mkdir -p target/c
if cc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude tests/c/test_c_api.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/test_c_api; then
  suite "c" 300 target/c/test_c_api "$sim_bin"
else
  add "c" "0 passed, 1 failed" "does not compile"
fi

step "journal kill test: SIGKILL at 1000 random points, restart, resume (tests/c/journal_kill.c)"
if cc -std=c11 -Wall -Wextra -Werror -Iinclude tests/c/journal_kill.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/journal_kill; then
  suite "journal kill" 600 target/c/journal_kill "$sim_bin" 1000
else
  add "journal kill" "0 passed, 1 failed" "does not compile"
fi

step "chaos: C tracks orders against xo-sim --chaos SEED (tests/c/chaos.c)"
if cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pthread -Iinclude tests/c/chaos.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/chaos; then
  suite "chaos (c)" 300 target/c/chaos "$sim_bin" 1 2 3
else
  add "chaos (c)" "0 passed, 1 failed" "does not compile"
fi

step "C example (examples/c/track_order.c) tracks an order end to end"
if cc -std=c11 -Wall -Wextra -Werror -Iinclude examples/c/track_order.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/track_order; then
  suite "c example" 120 scripts/run_c_example.sh "$sim_bin" target/c/track_order
else
  add "c example" "0 passed, 1 failed" "does not compile"
fi

step "C# binding (Unity package, tested under Mono)"
if [[ "$(uname -s)" == Linux ]]; then
  LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" suite "c#" 900 bindings/csharp/test.sh
  declarations=$(grep -E '^declaration checks: ' "$(step_log "c#")" | tail -n 1)
  report+=("             c# ${declarations:-declaration checks: missing} (not in the total)")
else
  echo "skipped: the Mono suite installs Mono with apt (Linux only)"
fi

step "C++ wrapper (plain, -fno-exceptions, ASan/UBSan) and the Unreal plugin's engine-free check"
LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" suite "c++/unreal" 1200 bindings/cpp/test.sh
static=$(grep -E '^static checks: ' "$(step_log "c++/unreal")" | tail -n 1)
report+=("             c++/unreal ${static:-static checks: missing} (not in the total)")

step "reliability: dlopen/dlclose loop, C and C++ programs under ASan/UBSan and valgrind"
LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" suite "reliability" 2400 tests/reliability.sh

step "fuzzing: every libFuzzer target in fuzz/ for 10 s (cargo fuzz; docs/fuzzing.md)"
suite "fuzzing" 1200 scripts/fuzz.sh 10

step "protocol interop: the official Centrifugo clients (Python, JavaScript) against the simulator"
if [[ "$(uname -s)" == Linux ]]; then
  need=()
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  command -v npm >/dev/null || need+=(nodejs npm)
  if ((${#need[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi
SIM_BIN="$sim_bin" suite "interop" 900 tests/interop/run.sh

step "benchmarks (quick mode: they still run; no time is asserted)"
suite "benchmarks" 600 scripts/bench.sh --quick

step "release bundle (Linux x86_64): build, lay out, check"
# The bundle's checks are layout checks: shown, but the bundle counts as one case (good or not).
one_case=1 suite "bundle" 1800 scripts/dist.sh

step "summary"
printf '%s\n' "${report[@]}"
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
