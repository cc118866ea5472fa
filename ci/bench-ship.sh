#!/usr/bin/env bash
# Measures ship on examples/hello-go with a Dagger engine: a cold run, a
# warm no-change re-run, and a baseline of one cached `dagger call` of one
# exec. Target (issue 7): warm re-run <= 1.2 x the baseline.
# Needs the dagger CLI and a container runtime; prints "no engine" and exits
# 0 without them, so it never pretends to have measured.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dagger >/dev/null; then
  echo "bench-ship: no dagger CLI on PATH: nothing measured"
  exit 0
fi
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
ship=(dagger call ship --source=. --dir=examples/hello-go --main=./cmd/hello summary)
# ship is +cache="never": the function re-runs, the stages inside hit the cache
cold=$(t "${ship[@]}")
warm=$(t "${ship[@]}")
base_call=(dagger call images)
t "${base_call[@]}" >/dev/null
base=$(t "${base_call[@]}")
echo "ship cold:        ${cold}s"
echo "ship warm rerun:  ${warm}s"
echo "one cached call:  ${base}s"
echo "ratio warm/base:  $(echo "scale=2; $warm / $base" | bc)"
