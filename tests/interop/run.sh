#!/usr/bin/env bash
# Interop: the official Centrifugo clients (centrifuge-python from PyPI, centrifuge-js from npm,
# run with Node) against the built simulator binary. See docs/protocol-fidelity.md.
#
# Usage: tests/interop/run.sh            (SIM_BIN defaults to <repo>/target/debug/xo-sim)
# Does not build anything: the simulator must already be built (scripts/test.sh does that).
# Installs the clients, pinned, under <repo>/target/interop/{venv,node} (reused when current),
# never globally. Ends with the line `N passed, N failed`; exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sim_bin=${SIM_BIN:-$root/target/debug/xo-sim}
work=$root/target/interop
venv=$work/venv
node_dir=$work/node
logs=$work/logs

log() { printf '[interop] %s\n' "$*" >&2; }
die() { log "$*"; echo "0 passed, 1 failed"; exit 1; }

[[ -x $sim_bin ]] || die "simulator binary not found at $sim_bin (build it: cargo build -p xo-sim)"
command -v python3 >/dev/null || die "python3 is required"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are required"
mkdir -p "$work" "$logs"

# --- centrifuge-python in a virtualenv, pinned with its dependencies --------------------------
requirements=$here/requirements.txt
install_python() {
  rm -rf "$venv" &&
    python3 -m venv "$venv" >&2 &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-virtualenv --no-deps -r "$requirements" >&2 &&
    "$venv/bin/python" -m pip check >&2 &&
    cp "$requirements" "$venv/.installed-requirements.txt"
}
if ! cmp -s "$requirements" "$venv/.installed-requirements.txt" 2>/dev/null; then
  log "installing centrifuge-python into $venv"
  install_python || die "could not install centrifuge-python (Debian needs python3-venv)"
fi

# --- centrifuge-js and ws from the committed lock file (npm ci) -------------------------------
install_node() {
  rm -rf "$node_dir" &&
    mkdir -p "$node_dir" &&
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/" &&
    (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) &&
    cp "$here/package-lock.json" "$node_dir/.installed-package-lock.json"
}
if ! cmp -s "$here/package-lock.json" "$node_dir/.installed-package-lock.json" 2>/dev/null; then
  log "installing centrifuge-js into $node_dir"
  install_node || die "could not install centrifuge-js with npm ci"
fi

# --- one simulator per client, with a 1 s ping interval ----------------------------------------
# The simulator's stdin is a pipe whose write end only this shell holds: closing it stops the
# simulator (it exits on end-of-file), and so does this shell dying, however it dies.
sim_pid=
sim_in=
sim_addr=
start_sim() { # $1: log name
  local out=$logs/$1-sim.out
  : >"$out"
  exec {sim_in}> >(exec "$sim_bin" --ping-secs 1 >"$out" 2>"$logs/$1-sim.err")
  sim_pid=$!
  for _ in $(seq 200); do
    sim_addr=$(awk '/^XO_SIM_LISTENING /{print $2}' "$out")
    [[ -n $sim_addr ]] && return 0
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}
stop_sim() {
  [[ -n $sim_in ]] && exec {sim_in}>&-
  sim_in=
  if [[ -n $sim_pid ]]; then
    for _ in $(seq 100); do
      kill -0 "$sim_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$sim_pid" 2>/dev/null || true
  fi
  sim_pid=
}
trap stop_sim EXIT

passed=0
failed=0
run_suite() { # $1: name, rest: command (gets the simulator address as its last argument)
  local name=$1
  shift
  local out=$logs/$name.log
  if ! start_sim "$name"; then
    log "$name: the simulator did not start (see $logs/$name-sim.err)"
    stop_sim
    failed=$((failed + 1))
    return
  fi
  local started=$SECONDS rc=0
  "$@" "$sim_addr" >"$out" 2>"$logs/$name.err" {sim_in}>&- || rc=$?
  stop_sim
  cat "$out"
  local p f
  p=$(grep -c '^PASS ' "$out" || true)
  f=$(grep -c '^FAIL ' "$out" || true)
  if ((rc != 0 && f == 0)); then
    log "$name exited with $rc without reporting a failure; stderr:"
    tail -n 20 "$logs/$name.err" >&2 || true
    f=1
  fi
  log "$name: $p passed, $f failed in $((SECONDS - started)) s"
  passed=$((passed + p))
  failed=$((failed + f))
}

run_suite python "$venv/bin/python" "$here/scenarios.py"
run_suite node env NODE_PATH="$node_dir/node_modules" node "$here/scenarios.js"

echo "$passed passed, $failed failed"
((failed == 0))
