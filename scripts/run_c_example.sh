#!/usr/bin/env bash
# Runs examples/c/track_order against a fresh simulator and checks it reports "done".
# Usage: run_c_example.sh <xo-sim> <track_order binary>. Prints "1 passed, 0 failed" or the reverse
# (the example's output goes to stderr); exits non-zero when it failed.
set -euo pipefail
sim_bin=$1 example=$2
coproc SIM { exec "$sim_bin"; }
sim_pid=$SIM_PID # bash unsets SIM_PID once the coprocess has exited
read -r line <&"${SIM[0]}"
addr=${line#XO_SIM_LISTENING }
curl_post() { # tiny HTTP POST without curl: bash's /dev/tcp
  exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}"
  printf 'POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$1" "${#2}" "$2" >&3
  cat <&3 >/dev/null
  exec 3<&-
}
curl_post /_sim/order '{"order_id":9001,"status":"new","timeline":[{"after_ms":300,"status":"paid"},{"after_ms":300,"status":"done"}]}'
if output=$(timeout 30 "$example" 1001 9001 example-token "http://$addr/api" "ws://$addr/connection/websocket" 2>&1) \
  && grep -q "final: done" <<<"$output" && grep -q "status paid" <<<"$output"; then
  status=0
else
  echo "FAIL the example did not report 'status paid' then 'final: done' within 30 s" >&2
  status=1
fi
exec {SIM[1]}>&-
wait "$sim_pid" 2>/dev/null || true
printf '%s\n' "$output" >&2
echo "$((1 - status)) passed, $status failed"
exit "$status"
