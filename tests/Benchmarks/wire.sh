#!/usr/bin/env bash
# Wire benchmark: C#<->C# (toolnet node + toolnet perf) against js<->js (two js-libp2p peers) in one run, over
# TCP + Noise + Yamux on 127.0.0.1: 1 GiB upload, 1 GiB download, sequential fresh connections per second, and the
# RSS a toolnet node spends per idle secure connection. Prints a table with the ratios.
#
#   tests/Benchmarks/wire.sh [--no-build] [--size 1GiB] [--cs-conns 1000] [--js-conns 200] [--warmup 1000] [--idle 10000] [--skip-js]
#
# Both processes of each pair share this machine's cores, so a figure is what one machine does for both ends.
# Warm-up, C# and js alike: before a timed transfer the client runs an untimed 64 MiB each way (on the same
# connection for C#, in the same process for js); before the timed connections, WARMUP untimed ones. The default
# warm-up (1000) is long enough for .NET's tiered JIT to settle in the fresh client process: with 200, C# measured
# ~250-340/s against ~410-490/s warm (js gains too: ~70-80 -> ~100/s), so short warm-ups understate both.
# CPU columns are the user+system seconds both processes spent in the measured step, warm-up included: they change
# less than the wall-clock rates when other work competes for the cores (the load average is printed with the table).
# Needs: dotnet, node (npm ci done in tests/Interop/js). Everything listens on and dials 127.0.0.0/8 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JS_DIR="$ROOT/tests/Interop/js"
TOOLNET="$ROOT/src/Node/bin/Release/net10.0/toolnet.dll"
BUILD=1
SIZE=1GiB
CS_CONNS=1000
JS_CONNS=200
IDLE=10000
STEP_TIMEOUT=300
WARMUP=1000
SKIP_JS=0

while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --size) SIZE=$2; shift ;;
    --cs-conns) CS_CONNS=$2; shift ;;
    --js-conns) JS_CONNS=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --skip-js) SKIP_JS=1 ;;
    --warmup) WARMUP=$2; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

case "$SIZE" in
  *GiB) BYTES=$(( ${SIZE%GiB} * 1024 * 1024 * 1024 )) ;;
  *MiB) BYTES=$(( ${SIZE%MiB} * 1024 * 1024 )) ;;
  *) BYTES=$SIZE ;;
esac

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 10,000 idle connections need that many descriptors in the node and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log() { echo "wire.sh: $*" >&2; }

# json FILE EXPR: evaluates the JS expression EXPR with `j` bound to the last JSON line of FILE.
json() {
  node -e 'const fs=require("fs");const lines=fs.readFileSync(process.argv[1],"utf8").trim().split("\n");const j=JSON.parse(lines[lines.length-1]);console.log(eval(process.argv[2]))' "$1" "$2"
}

# cpu_ticks PID: user+system clock ticks the process has used so far.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)

# wait_for FILE PATTERN SECONDS: waits until a line of FILE matches PATTERN.
wait_for() {
  local deadline=$(( SECONDS + $3 ))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "timed out waiting for '$2' in $1"; cat "$1" >&2 || true; exit 1
    fi
    sleep 0.1
  done
}

if [ $BUILD = 1 ]; then
  log "building Release"
  dotnet build -c Release "$ROOT/src/Node" -nologo -v quiet >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
fi

# ---- C#: one toolnet node; the client is a fresh `toolnet perf` process per step ----

start_cs_node() { # start_cs_node NAME: sets CS_PID, CS_ADDR
  mkdir -p "$WORK/$1"
  # The client opens thousands of connections from a few loopback addresses, far beyond one address's share on a
  # public node (AddressLimits): exempt loopback, the benchmark measures the connection path, not the limits.
  dotnet "$TOOLNET" node --json --data "$WORK/$1" --listen /ip4/127.0.0.1/tcp/0 --log-level Warning --trusted-network 127.0.0.0/8 \
    >"$WORK/$1.out" 2>"$WORK/$1.err" &
  CS_PID=$!
  PIDS+=("$CS_PID")
  wait_for "$WORK/$1.out" peerId 30
  CS_ADDR=$(json "$WORK/$1.out" 'j.addrs[0]')
}

# cs_client OUT ARGS...: runs one toolnet client command; prints the CPU seconds it used.
cs_client() {
  local out=$1; shift
  ( timeout "$STEP_TIMEOUT" dotnet "$TOOLNET" "$@" --json >"$out"
    awk -v t="$TICKS" '{printf "%.2f\n", ($16+$17)/t}' "/proc/$BASHPID/stat" )
}

cs_step() { # cs_step NAME ARGS...: runs a perf client step, sets STEP_CPU (both processes)
  local name=$1; shift
  local before after client
  before=$(cpu_ticks "$CS_PID")
  client=$(cs_client "$WORK/cs-$name.json" perf "$CS_ADDR" "$@")
  after=$(cpu_ticks "$CS_PID")
  STEP_CPU=$(awk -v a="$after" -v b="$before" -v c="$client" -v t="$TICKS" 'BEGIN{printf "%.1f", (a-b)/t + c}')
}

log "C#: starting toolnet node"
start_cs_node cs
log "C#: upload $SIZE"
cs_step upload --upload "$BYTES" --warmup-bytes 64MiB; CS_UP_CPU=$STEP_CPU
CS_UP=$(json "$WORK/cs-upload.json" '(j.uploadBytes/j.uploadSeconds/1e6).toFixed(1)')
log "C#: download $SIZE"
cs_step download --download "$BYTES" --warmup-bytes 64MiB; CS_DOWN_CPU=$STEP_CPU
CS_DOWN=$(json "$WORK/cs-download.json" '(j.downloadBytes/j.downloadSeconds/1e6).toFixed(1)')
log "C#: $CS_CONNS sequential connections"
cs_step conns --connections "$CS_CONNS" --warmup "$WARMUP"; CS_CONN_CPU=$STEP_CPU
CS_CONN=$(json "$WORK/cs-conns.json" 'j.connectionsPerSecond.toFixed(1)')
kill "$CS_PID"; wait "$CS_PID" 2>/dev/null || true

# ---- js: peer A commands peer B over a FIFO ----

start_js_peer() { # start_js_peer NAME: sets JS_PID
  mkfifo "$WORK/$1.in"
  (cd "$JS_DIR" && exec node --import ./polyfill.mjs peer.mjs --listen /ip4/127.0.0.1/tcp/0 --quiet-events --no-connection-monitor \
    <"$WORK/$1.in" >"$WORK/$1.out" 2>"$WORK/$1.err") &
  JS_PID=$!
  PIDS+=("$JS_PID")
}

JS_UP=0 JS_DOWN=0 JS_CONN=0 JS_UP_CPU=- JS_DOWN_CPU=- JS_CONN_CPU=-
if [ $SKIP_JS = 0 ]; then
log "js: starting two js-libp2p peers"
start_js_peer jsb; JSB_PID=$JS_PID; exec 8>"$WORK/jsb.in"
start_js_peer jsa; JSA_PID=$JS_PID; exec 7>"$WORK/jsa.in"
wait_for "$WORK/jsb.out" '"ready"' 60
wait_for "$WORK/jsa.out" '"ready"' 60
JSB_ADDR=$(json "$WORK/jsb.out" 'j.addrs.find(a => !a.includes("/ws"))')

JS_ID=0
js_step() { # js_step JSON-ARGS: sends a command to peer A, waits for its reply; sets JS_REPLY, STEP_CPU
  JS_ID=$(( JS_ID + 1 ))
  local before after
  before=$(( $(cpu_ticks "$JSA_PID") + $(cpu_ticks "$JSB_PID") ))
  echo "{\"id\":$JS_ID,\"addr\":\"$JSB_ADDR\",$1}" >&7
  wait_for "$WORK/jsa.out" "\"id\":$JS_ID," "$STEP_TIMEOUT"
  after=$(( $(cpu_ticks "$JSA_PID") + $(cpu_ticks "$JSB_PID") ))
  grep "\"id\":$JS_ID," "$WORK/jsa.out" >"$WORK/js-$JS_ID.json"
  if [ "$(json "$WORK/js-$JS_ID.json" j.ok)" != true ]; then
    log "js command failed: $(cat "$WORK/js-$JS_ID.json")"; exit 1
  fi
  JS_REPLY="$WORK/js-$JS_ID.json"
  STEP_CPU=$(awk -v a="$after" -v b="$before" -v t="$TICKS" 'BEGIN{printf "%.1f", (a-b)/t}')
}

js_step '"cmd":"perf","upload":67108864,"download":67108864'
log "js: upload $SIZE"
js_step "\"cmd\":\"perf\",\"upload\":$BYTES,\"download\":0"; JS_UP_CPU=$STEP_CPU
JS_UP=$(json "$JS_REPLY" '(j.uploadBytes/j.uploadSeconds/1e6).toFixed(1)')
log "js: download $SIZE"
js_step "\"cmd\":\"perf\",\"upload\":0,\"download\":$BYTES"; JS_DOWN_CPU=$STEP_CPU
JS_DOWN=$(json "$JS_REPLY" '(j.downloadBytes/j.downloadSeconds/1e6).toFixed(1)')
log "js: $JS_CONNS sequential connections"
js_step "\"cmd\":\"perfConnections\",\"count\":$WARMUP"
js_step "\"cmd\":\"perfConnections\",\"count\":$JS_CONNS"; JS_CONN_CPU=$STEP_CPU
JS_CONN=$(json "$JS_REPLY" 'j.connectionsPerSecond.toFixed(1)')
exec 7>&- 8>&-
wait "$JSA_PID" "$JSB_PID" 2>/dev/null || true
fi

# ---- RSS of a toolnet node per idle secure connection ----

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
IDLE_KIB=n/a
if [ "$IDLE" -gt 0 ]; then
  log "idle: $IDLE secure connections to a fresh node"
  start_cs_node idle
  # Warm up (JIT, pools, thread pool) so that the difference is what the connections hold.
  cs_client "$WORK/idle-warmup.json" perf "$CS_ADDR" --connections 200 >/dev/null
  sleep 2
  RSS_BEFORE=$(rss_kib "$CS_PID")
  # Several source addresses: each has its own ephemeral port range.
  timeout "$STEP_TIMEOUT" dotnet "$TOOLNET" bench idle-connections "$CS_ADDR" --count "$IDLE" --hold 120 --json \
    --source 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 >"$WORK/idle-client.out" 2>"$WORK/idle-client.err" &
  CLIENT_PID=$!
  PIDS+=("$CLIENT_PID")
  wait_for "$WORK/idle-client.out" connections "$STEP_TIMEOUT"
  sleep 5
  RSS_AFTER=$(rss_kib "$CS_PID")
  IDLE_KIB=$(awk -v a="$RSS_AFTER" -v b="$RSS_BEFORE" -v n="$IDLE" 'BEGIN{printf "%.1f", (a-b)/n}')
  log "idle: node RSS $RSS_BEFORE KiB before, $RSS_AFTER KiB with $IDLE connections"
  kill "$CLIENT_PID" 2>/dev/null || true
  wait "$CLIENT_PID" 2>/dev/null || true
  kill "$CS_PID"; wait "$CS_PID" 2>/dev/null || true
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "n/a" }'; }

echo
echo "wire.sh: TCP + Noise + Yamux on 127.0.0.1, $(nproc) cores shared by both ends; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
printf '%-28s %12s %12s %8s %10s %10s   %s\n' "measure" "C#<->C#" "js<->js" "C#/js" "C# cpu s" "js cpu s" "target"
printf '%-28s %12s %12s %8s %10s %10s   %s\n' "upload $SIZE (MB/s)" "$CS_UP" "$JS_UP" "$(ratio "$CS_UP" "$JS_UP")" "$CS_UP_CPU" "$JS_UP_CPU" ">= 800 and >= 3x js"
printf '%-28s %12s %12s %8s %10s %10s   %s\n' "download $SIZE (MB/s)" "$CS_DOWN" "$JS_DOWN" "$(ratio "$CS_DOWN" "$JS_DOWN")" "$CS_DOWN_CPU" "$JS_DOWN_CPU" ">= 800 and >= 3x js"
printf '%-28s %12s %12s %8s %10s %10s   %s\n' "connections/s ($CS_CONNS / $JS_CONNS)" "$CS_CONN" "$JS_CONN" "$(ratio "$CS_CONN" "$JS_CONN")" "$CS_CONN_CPU" "$JS_CONN_CPU" ">= 10x js"
printf '%-28s %12s %12s %8s %10s %10s   %s\n' "idle conn RSS ($IDLE, KiB)" "$IDLE_KIB" "" "" "" "" "<= 32"
