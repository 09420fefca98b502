#!/usr/bin/env bash
# Benchmarks of xo-tracker; the results and how to read them are in BENCHMARKS.md.
#
#   scripts/bench.sh                 full mode: builds like a release (fat LTO, opt-level "s"),
#                                    10,000 pushes (and 5,000 under a busy host), 10,000/1,000
#                                    trackers, 60 s windows, a 100,000-tracker fleet in virtual
#                                    time, the artefact size and its breakdown (about 10 min, plus
#                                    the builds: about 6 min the first time, 1-2 min after a change)
#   scripts/bench.sh --quick         quick mode, run by the test command to keep the benchmarks
#                                    working: the debug build that the test command already made,
#                                    small counts and short windows, a 1,000-tracker fleet
#                                    (about 40 s)
#   scripts/bench.sh --only latency,fleet,size    some of them (names as in the table)
#
# Release builds go to target/bench (CARGO_TARGET_DIR overrides it) so they do not block the
# debug builds in target/. Quick mode uses cargo's default target dir (it shares the test
# command's build) unless CARGO_TARGET_DIR is set. No benchmark asserts a time: the last line
# counts the benchmarks that ran to completion, `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never

mode=full
only=""
while (($#)); do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
wanted() { [[ -z $only || ",$only," == *",$1,"* ]]; }
bench_only=$(tr ',' '\n' <<<"$only" | grep -vx size | paste -sd, -)

# 10,000 trackers and their start-up requests need more than the usual 1,024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

started=$SECONDS
passed=0
failed=0

echo "==> machine"
echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1024/1024}' /proc/meminfo)"
echo "kernel: $(uname -sr)"
echo "rustc:  $(rustc --version)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && commit+=" + uncommitted changes"
  echo "commit: $commit"
fi

# The benchmark executable built by `cargo <args> --bench xo_bench --no-run`.
build_bench() {
  cargo "$@" --bench xo_bench --no-run --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*xo_bench[^"]*\)".*/\1/p' | tail -n 1
}

if [[ $mode == quick ]]; then
  target=${CARGO_TARGET_DIR:-$root/target}
  echo "==> build (debug, shared with the test command)"
  exe=$(build_bench test --quiet) || exe=""
  cargo build --quiet -p xo-tracker --lib || true
  cdylib=$target/debug/libxo_tracker.so
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/bench}
  target=$CARGO_TARGET_DIR
  echo "==> build the shipped artefact (cargo build --release) in $target"
  t=$SECONDS
  cdylib=""
  if cargo build --release --quiet -p xo-tracker --lib; then
    mkdir -p "$target/artefact"
    cp "$target/release/libxo_tracker.so" "$target/artefact/libxo_tracker.so"
    cdylib=$target/artefact/libxo_tracker.so
  fi
  echo "    $((SECONDS - t)) s"
  exe=""
  if [[ -z $only || -n $bench_only ]]; then
    echo "==> build the benchmarks (bench profile = release settings)"
    t=$SECONDS
    exe=$(build_bench bench) || exe=""
    echo "    $((SECONDS - t)) s"
  fi
fi

if [[ -z $only || -n $bench_only ]]; then
  if [[ -z $exe || ! -x $exe ]]; then
    echo "the benchmarks did not build" >&2
    failed=$((failed + 1))
  else
    echo "==> run ($mode)"
    args=("--$mode")
    [[ -n $bench_only ]] && args+=(--only "$bench_only")
    [[ -n $cdylib && -f $cdylib ]] && export XO_BENCH_CDYLIB=$cdylib
    log=$(mktemp)
    "$exe" "${args[@]}" | tee "$log"
    summary=$(grep -E '^xo_bench: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    rm -f "$log"
    if [[ -n $summary ]]; then
      read -r _ p _ f _ <<<"$summary"
      passed=$((passed + p))
      failed=$((failed + f))
    else
      failed=$((failed + 1))
    fi
  fi
fi

if wanted size; then
  if [[ $mode == quick ]]; then
    echo "==> size: full mode only (it needs the fat-LTO release build)"
  elif [[ -z $cdylib ]]; then
    echo "==> size: the release build failed" >&2
    failed=$((failed + 1))
  else
    echo "==> size of the stripped release cdylib"
    bytes=$(stat -c %s "$cdylib")
    mib=$(awk -v b="$bytes" 'BEGIN {printf "%.2f", b/1048576}')
    verdict=$(awk -v b="$bytes" 'BEGIN {print (b <= 4*1048576) ? "met" : "MISSED"}')
    echo "| size | stripped release libxo_tracker.so (x86_64 Linux) | $bytes B ($mib MiB) | ≤ 4 MiB | $verdict |"
    echo "sections (size -A, bytes):"
    size -A "$cdylib" | awk '$1 ~ /^\./ && $2 > 20000 {printf "  %-20s %9d\n", $1, $2}'
    echo "==> breakdown by crate (symbol sizes of an unstripped build of the same profile)"
    t=$SECONDS
    if CARGO_TARGET_DIR=$root/target/bench-unstripped CARGO_PROFILE_RELEASE_STRIP=none \
      cargo build --release --quiet -p xo-tracker --lib; then
      benches/size_breakdown.sh "$root/target/bench-unstripped/release/libxo_tracker.so" 25
      echo "    $((SECONDS - t)) s"
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  fi
fi

echo "==> $mode mode took $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
((failed == 0))
