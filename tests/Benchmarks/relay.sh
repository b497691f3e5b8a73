#!/usr/bin/env bash
# Relay benchmark: bytes through a C# circuit relay v2. Three processes on 127.0.0.1: a relay (`toolnet node
# --role relay`, circuit limits off), a target holding a reservation on it (`toolnet node --relay`), and a fresh
# `toolnet perf` client dialling the target's /p2p-circuit address: upload SIZE, then download SIZE.
#
#   tests/Benchmarks/relay.sh [--no-build] [--size 1GiB]
#
# Prints MB/s of each direction, end to end (both ends run Noise; the relay decrypts and re-encrypts each hop), and
# the relay's own CPU seconds per GiB relayed (user+system from /proc, warm-up excluded). All three processes share
# this machine's cores. Needs: dotnet, node (for JSON). Everything listens on and dials 127.0.0.0/8 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLNET="$ROOT/src/Node/bin/Release/net10.0/toolnet.dll"
BUILD=1
SIZE=1GiB

while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --size) SIZE=$2; shift ;;
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
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "relay.sh: $*" >&2; }

# json FILE EXPR: evaluates the JS expression EXPR with `j` bound to the first line of FILE matching EXPR's needs.
json() {
  node -e 'const fs=require("fs");const lines=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(l=>JSON.parse(l));for(const j of lines){try{const v=eval(process.argv[2]);if(v!==undefined){console.log(v);process.exit(0)}}catch{}}process.exit(1)' "$1" "$2"
}

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)

wait_for() { # wait_for FILE PATTERN SECONDS
  local deadline=$(( SECONDS + $3 ))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "timed out waiting for '$2' in $1"; cat "$1" >&2 || true; exit 1; fi
    sleep 0.1
  done
}

if [ $BUILD = 1 ]; then
  log "building Release"
  dotnet build -c Release "$ROOT/src/Node" -nologo -v quiet >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
fi

mkdir -p "$WORK/relay" "$WORK/target"
dotnet "$TOOLNET" node --json --data "$WORK/relay" --listen /ip4/127.0.0.1/tcp/0 --log-level Warning \
  --role relay --relay-circuit-bytes 0 --relay-circuit-seconds 0 >"$WORK/relay.out" 2>"$WORK/relay.err" &
RELAY_PID=$!; PIDS+=("$RELAY_PID")
wait_for "$WORK/relay.out" peerId 30
RELAY_ADDR=$(json "$WORK/relay.out" 'j.addrs[0]')

dotnet "$TOOLNET" node --json --data "$WORK/target" --listen /ip4/127.0.0.1/tcp/0 --log-level Warning \
  --relay "$RELAY_ADDR" >"$WORK/target.out" 2>"$WORK/target.err" &
PIDS+=("$!")
wait_for "$WORK/target.out" '"event":"reservation"' 30
CIRCUIT=$(json "$WORK/target.out" 'j.event==="reservation" ? j.addrs[0] : undefined')
log "circuit $CIRCUIT"

step() { # step NAME ARGS...: one perf client run through the relay; sets RELAY_CPU (seconds)
  local name=$1; shift
  local before after
  before=$(cpu_ticks "$RELAY_PID")
  timeout 600 dotnet "$TOOLNET" perf "$CIRCUIT" "$@" --json >"$WORK/$name.json"
  after=$(cpu_ticks "$RELAY_PID")
  RELAY_CPU=$(awk -v a="$after" -v b="$before" -v t="$TICKS" 'BEGIN{printf "%.2f", (a-b)/t}')
}

log "warm-up: 64 MiB each way"
step warmup --upload 64MiB --download 64MiB
log "upload $SIZE"
step upload --upload "$BYTES" --download 0; UP_CPU=$RELAY_CPU
UP=$(json "$WORK/upload.json" '(j.uploadBytes/j.uploadSeconds/1e6).toFixed(1)')
log "download $SIZE"
step download --upload 0 --download "$BYTES"; DOWN_CPU=$RELAY_CPU
DOWN=$(json "$WORK/download.json" '(j.downloadBytes/j.downloadSeconds/1e6).toFixed(1)')
GIB=$(awk -v b="$BYTES" 'BEGIN{print b/1073741824}')

printf '%-10s %10s %22s\n' direction 'MB/s' 'relay CPU s per GiB'
printf '%-10s %10s %22s\n' upload "$UP" "$(awk -v c="$UP_CPU" -v g="$GIB" 'BEGIN{printf "%.2f", c/g}')"
printf '%-10s %10s %22s\n' download "$DOWN" "$(awk -v c="$DOWN_CPU" -v g="$GIB" 'BEGIN{printf "%.2f", c/g}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
