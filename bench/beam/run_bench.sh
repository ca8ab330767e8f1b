#!/usr/bin/env bash
# BEAM distribution benchmark: two Elixir nodes on this machine (loopback).
# Starts node B (node_b.exs) in the background, runs node A (node_a.exs), which
# prints a Markdown table; B is stopped by A (:init.stop) or by PID here.
#
#   ./run_bench.sh                 # full run (~1-2 min)
#   RUNS=1 N_MSG=100000 N_RTT=2000 N_RPC=2000 F_MS=1000 G_ROUNDS=100 H_PROCS=100000 \
#     I_CONNECTS=5 ./run_bench.sh   # quick smoke run
#   ROWS=abc ./run_bench.sh        # only some rows (see node_a.exs for all the knobs)
#   ERL_EPMD_PORT=4411 ./run_bench.sh   # use (or start) an epmd on another port
#   B_NODE=name@host ./run_bench.sh   # target an already-running node B instead
#                                     # (it must provide what node_b.exs provides)
# Output also saved to results/last_run.md.
set -euo pipefail
cd "$(dirname "$0")"
COOKIE=${COOKIE:-benchcookie}
HOST=$(hostname -s)
mkdir -p results

# Stop the epmd this script started -- but only if no other node (e.g. another
# run's) has registered with it meanwhile; killing it would orphan them.
stop_own_epmd() {
  [ -n "${EPMD_PID:-}" ] || return 0
  if epmd -names 2>/dev/null | grep -q '^name '; then
    echo "note: leaving epmd (pid $EPMD_PID) running: other nodes registered on it:" >&2
    epmd -names >&2
  else
    kill "$EPMD_PID" 2>/dev/null || true
  fi
}
EPMD_PID=""
if ! epmd -names >/dev/null 2>&1; then epmd >/dev/null 2>&1 & EPMD_PID=$!; sleep 0.5; fi
B_PID=""
cleanup() {
  if [ -n "$B_PID" ] && kill -0 "$B_PID" 2>/dev/null; then kill "$B_PID" 2>/dev/null || true; fi
  stop_own_epmd
}
trap cleanup EXIT

if [ -z "${B_NODE:-}" ]; then
  B_NODE=bench_b@$HOST
  # +P: row (h) spawns 1,000,000 processes on B (the default limit is 262,144)
  elixir --erl "+P 2000000" --sname bench_b --cookie "$COOKIE" node_b.exs >results/node_b.log 2>&1 &
  B_PID=$!
  for _ in $(seq 150); do grep -q ready results/node_b.log 2>/dev/null && break; sleep 0.1; done
  grep -q ready results/node_b.log || { echo "node B did not start:"; cat results/node_b.log; exit 1; }
fi

elixir --sname bench_a --cookie "$COOKIE" node_a.exs "$B_NODE" | tee results/last_run.md
if [ -n "$B_PID" ]; then
  for _ in $(seq 50); do kill -0 "$B_PID" 2>/dev/null || break; sleep 0.1; done
fi
