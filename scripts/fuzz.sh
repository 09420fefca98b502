#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ (cargo fuzz) for a bounded time each and fails on any crash.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 10 s, every target)
# Installs cargo-fuzz into target/tools if it is neither there nor on PATH. The stable toolchain builds the sanitizer
# instrumentation with RUSTC_BOOTSTRAP=1. New inputs go to target/fuzz/corpus/<target> (the
# committed seeds in fuzz/corpus/<target> are read, never written); crashes to fuzz/artifacts/.
# The last line is `N passed, M failed` (one per target); logs in $XO_FUZZ_LOGS (target/fuzz/logs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-10}
shift || true
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never

tools="$root/target/tools"
if [[ ! -x "$tools/bin/cargo-fuzz" ]] && command -v cargo-fuzz >/dev/null; then
  tools="$(dirname "$(dirname "$(command -v cargo-fuzz)")")" # already installed: use it
fi
if [[ ! -x "$tools/bin/cargo-fuzz" ]]; then
  command -v c++ >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
  }
  cargo install cargo-fuzz --locked --quiet --root "$tools"
fi
cargo_fuzz() { "$tools/bin/cargo-fuzz" fuzz "$@"; }

targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo_fuzz list --fuzz-dir fuzz)
cargo_fuzz build --fuzz-dir fuzz --target-dir "$root/target/fuzz"
logs=${XO_FUZZ_LOGS:-target/fuzz/logs}
mkdir -p "$logs"
passed=0 failed=0
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz/corpus/$t"
  log="$logs/$t.log"
  if cargo_fuzz run --fuzz-dir fuzz --target-dir "$root/target/fuzz" "$t" "target/fuzz/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -runs=100000000 -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -dict=fuzz/json.dict -print_final_stats=1 >"$log" 2>&1; then
    passed=$((passed + 1))
    result=ok
  else
    failed=$((failed + 1))
    result="CRASH (see $log and fuzz/artifacts/$t/)"
  fi
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
  printf '%-18s %s: %s executions, %s\n' "$t" "$result" "$runs" "${cov:-no coverage line}"
done
echo "$passed passed, $failed failed"
((failed == 0))
