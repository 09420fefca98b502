#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the Rust suites (library, simulator, and
# the header check: in CI the build leaves include/ alone, so a stale committed header fails
# tests/header.rs), and the C program against the built library and the simulator.
# Installs what a fresh Debian machine lacks. One build is shared by every step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
command -v cargo >/dev/null || { echo "cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "build (debug, shared by every suite below)"
cargo build --workspace --all-targets --quiet
lib_dir="$root/target/debug"
sim_bin="$lib_dir/xo-sim"

step "Rust tests"
cargo test --workspace --quiet 2>&1 | tee target/rust-tests.log
rust_summary=$(grep -E '^test result:' target/rust-tests.log | awk '{p+=$4; f+=$6} END {print p" passed, "f" failed"}')

step "C ABI test (header only, -Wall -Wextra -Werror)"
mkdir -p target/c
cc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude tests/c/test_c_api.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/test_c_api
target/c/test_c_api "$sim_bin" | tee target/c/test_c_api.log
c_summary=$(tail -n 1 target/c/test_c_api.log)

step "chaos: C tracks orders against xo-sim --chaos SEED (tests/c/chaos.c)"
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pthread -Iinclude tests/c/chaos.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/chaos
timeout 300 target/c/chaos "$sim_bin" 1 2 3 | tee target/c/chaos.log
chaos_c_summary=$(tail -n 1 target/c/chaos.log)

step "C example (examples/c/track_order.c) tracks an order end to end"
cc -std=c11 -Wall -Wextra -Werror -Iinclude examples/c/track_order.c \
  -L"$lib_dir" -lxo_tracker -Wl,-rpath,"$lib_dir" -o target/c/track_order
example_summary=$(scripts/run_c_example.sh "$sim_bin" target/c/track_order)

step "C# binding (Unity package, tested under Mono)"
if [[ "$(uname -s)" == Linux ]]; then
  LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" bindings/csharp/test.sh
  cs_summary=$(tail -n 1 target/csharp/test.log)
else
  echo "skipped: the Mono suite installs Mono with apt (Linux only)"
  cs_summary="0 passed, 0 failed"
fi

step "C++ wrapper (plain, -fno-exceptions, ASan/UBSan) and the Unreal plugin's engine-free check"
LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" bindings/cpp/test.sh | tee target/cpp-tests.log
cpp_summary=$(tail -n 1 target/cpp-tests.log)

step "reliability: dlopen/dlclose loop, C programs under ASan/UBSan and valgrind"
LIB_DIR="$lib_dir" SIM_BIN="$sim_bin" tests/reliability.sh | tee target/reliability.log
reliability_summary=$(tail -n 1 target/reliability.log)

step "fuzzing: every libFuzzer target in fuzz/ for 10 s (cargo fuzz; docs/fuzzing.md)"
scripts/fuzz.sh 10 | tee target/fuzz.log
fuzz_summary=$(tail -n 1 target/fuzz.log)

step "protocol interop: the official Centrifugo clients (Python, JavaScript) against the simulator"
if [[ "$(uname -s)" == Linux ]]; then
  need=()
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  command -v npm >/dev/null || need+=(nodejs npm)
  if ((${#need[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi
SIM_BIN="$sim_bin" tests/interop/run.sh | tee target/interop.log
interop_summary=$(tail -n 1 target/interop.log)

step "benchmarks (quick mode: they still run; no time is asserted)"
scripts/bench.sh --quick | tee target/bench-quick.log
bench_summary=$(tail -n 1 target/bench-quick.log)

step "release bundle (Linux x86_64): build, lay out, check"
scripts/dist.sh | tee target/dist.log
dist_summary=$(tail -n 1 target/dist.log)

step "summary"
echo "rust: $rust_summary"
echo "c:    $c_summary"
echo "chaos (c): $chaos_c_summary"
echo "c example: $example_summary"
echo "c#: $cs_summary"
echo "c++/unreal: $cpp_summary"
echo "reliability: $reliability_summary"
echo "fuzzing: $fuzz_summary"
echo "interop: $interop_summary"
echo "benchmarks: $bench_summary"
echo "bundle: $dist_summary"
total_passed=0 total_failed=0
for summary in "$rust_summary" "$c_summary" "$chaos_c_summary" "$example_summary" "$cs_summary" "$cpp_summary" "$reliability_summary" "$fuzz_summary" "$interop_summary" "$bench_summary" "$dist_summary"; do
  read -r p _ f _ <<<"$summary"
  total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
done
echo "$total_passed passed, $total_failed failed"
