#!/usr/bin/env bash
# Coverage-guided fuzzing of one ToolNet wire decoder with AFL++ and SharpFuzz.
#   bash fuzz/run.sh <target> [seconds]      e.g. bash fuzz/run.sh varint 600
#   bash fuzz/run.sh list                    the targets
# Findings land in fuzz/findings/<target>/default/crashes; copy a crash into fuzz/corpus/<target>/ once fixed,
# and the corpus replay test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: bash fuzz/run.sh <target>|list [seconds]}
seconds=${2:-300}
out=fuzz/out

command -v afl-fuzz >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0

dotnet publish fuzz/ToolNet.Fuzz -c Release -o "$out" --nologo -v quiet
if [ "$target" = list ]; then
  dotnet "$out/ToolNet.Fuzz.dll" list
  exit 0
fi
# Instrument the library under test (not the harness) for AFL's coverage map.
sharpfuzz "$out/ToolNet.Protocol.dll" 2>&1 | grep -v "already instrumented" || true

export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
mkdir -p "fuzz/findings/$target"
afl-fuzz -i "fuzz/corpus/$target" -o "fuzz/findings/$target" -V "$seconds" -t 5000 -m none \
  -- dotnet "$out/ToolNet.Fuzz.dll" afl "$target"
echo "crashes: $(find "fuzz/findings/$target" -path '*crashes/id*' | wc -l)"
