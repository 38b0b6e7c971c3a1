#!/usr/bin/env bash
# A local multi-process Tessera cluster on loopback, for tests and demos:
# N retrieval shards (retrieval_server, each with its own store and indexes), a
# router in front of them (gateway + sharded ingest and retrieval), a stateless
# ingest tier, and the generation, agents and eval services, each a separate
# process on a free port with its data under the cluster directory.
#
#   cluster.sh start [--dir DIR] [--shards N] [--bin_dir DIR] [--shard_timeout_ms MS]
#                    [--generator_model PATH] [--models_dir DIR] [--log_level LEVEL]
#   cluster.sh up ...              start, print the addresses, stop on Ctrl-C
#   cluster.sh status --dir DIR    processes and addresses
#   cluster.sh kill-shard I --dir DIR    SIGKILL shard I (no drain)
#   cluster.sh start-shard I --dir DIR   restart shard I on its port and data
#   cluster.sh stop --dir DIR      SIGTERM everything (graceful drain), then wait
#
# `start` writes DIR/cluster.env (ROUTER=host:port, SHARD_0=..., GENERATION=...,
# AGENTS=..., EVAL=..., INGEST=..., and the pids) and prints it. Binaries come
# from --bin_dir (default: bazel-bin/services/standalone of this checkout;
# build them with `bazel build //services/standalone:all`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMMAND="${1:-}"
[[ $# -gt 0 ]] && shift
DIR=""
SHARDS=3
BIN_DIR="${ROOT}/bazel-bin/services/standalone"
SHARD_TIMEOUT_MS=1000
GENERATOR_MODEL=""
MODELS_DIR=""
SHARD_INDEX=""
HOST=127.0.0.1
LOG_LEVEL=warn

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#*=}"; shift ;;
    --shards) SHARDS="$2"; shift 2 ;;
    --shards=*) SHARDS="${1#*=}"; shift ;;
    --bin_dir) BIN_DIR="$2"; shift 2 ;;
    --bin_dir=*) BIN_DIR="${1#*=}"; shift ;;
    --shard_timeout_ms) SHARD_TIMEOUT_MS="$2"; shift 2 ;;
    --shard_timeout_ms=*) SHARD_TIMEOUT_MS="${1#*=}"; shift ;;
    --generator_model) GENERATOR_MODEL="$2"; shift 2 ;;
    --generator_model=*) GENERATOR_MODEL="${1#*=}"; shift ;;
    --models_dir) MODELS_DIR="$2"; shift 2 ;;
    --models_dir=*) MODELS_DIR="${1#*=}"; shift ;;
    --log_level) LOG_LEVEL="$2"; shift 2 ;;
    --log_level=*) LOG_LEVEL="${1#*=}"; shift ;;
    -h|--help) usage ;;
    [0-9]*) SHARD_INDEX="$1"; shift ;;
    *) echo "cluster.sh: unknown argument $1" >&2; usage ;;
  esac
done
[[ -n "${COMMAND}" ]] || usage
if [[ -z "${DIR}" ]]; then
  [[ "${COMMAND}" == start || "${COMMAND}" == up ]] || { echo "cluster.sh: give --dir" >&2; exit 2; }
  DIR="$(mktemp -d "${TMPDIR:-/tmp}/tessera-cluster.XXXXXX")"
fi
mkdir -p "${DIR}/data"
DIR="$(cd "${DIR}" && pwd)"

# Starts one process: NAME BINARY [FLAGS...]; PORT in the environment picks
# its port (0 = free). Waits until it has written its port (it then serves).
launch() {
  local name="$1" binary="$2"
  shift 2
  local bin="${BIN_DIR}/${binary}"
  [[ -x "${bin}" ]] || { echo "cluster.sh: ${bin} not found (bazel build //services/standalone:all)" >&2; return 1; }
  rm -f "${DIR}/${name}.port"
  mkdir -p "${DIR}/data/${name}"
  # Remembered so that start-shard can run the same command again.
  printf '%q ' "${bin}" "$@" > "${DIR}/${name}.cmd"
  "${bin}" --host="${HOST}" --port="${PORT:-0}" --port_file="${DIR}/${name}.port" \
    --data_dir="${DIR}/data/${name}" --drain_seconds=5 --log_level="${LOG_LEVEL}" "$@" \
    >>"${DIR}/${name}.log" 2>&1 </dev/null &
  echo $! > "${DIR}/${name}.pid"
  for _ in $(seq 1 600); do
    [[ -s "${DIR}/${name}.port" ]] && return 0
    if ! alive "$(cat "${DIR}/${name}.pid")"; then
      echo "cluster.sh: ${name} exited; its log:" >&2
      tail -20 "${DIR}/${name}.log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "cluster.sh: ${name} did not start in 30 s" >&2
  return 1
}

address() { echo "${HOST}:$(cat "${DIR}/$1.port")"; }
names() { cat "${DIR}/names" 2>/dev/null || true; }

write_env() {
  {
    echo "CLUSTER_DIR=${DIR}"
    echo "ROUTER=$(address router)"
    echo "INGEST=$(address ingest)"
    echo "GENERATION=$(address generation)"
    echo "AGENTS=$(address agents)"
    echo "EVAL=$(address eval)"
    local i=0
    while [[ -f "${DIR}/shard-${i}.port" ]]; do
      echo "SHARD_${i}=$(address "shard-${i}")"
      i=$((i + 1))
    done
    echo "SHARDS=${i}"
    for name in $(names); do
      echo "PID_$(echo "${name}" | tr 'a-z-' 'A-Z_')=$(cat "${DIR}/${name}.pid")"
    done
  } > "${DIR}/cluster.env.tmp"
  mv "${DIR}/cluster.env.tmp" "${DIR}/cluster.env"
}

start() {
  if [[ -f "${DIR}/names" ]]; then
    echo "cluster.sh: ${DIR} already has a cluster (stop it first)" >&2
    exit 1
  fi
  local shard_list=() model_flags=()
  [[ -n "${MODELS_DIR}" ]] && model_flags+=(--models_dir="${MODELS_DIR}")
  for ((i = 0; i < SHARDS; i++)); do
    echo "shard-${i}" >> "${DIR}/names"
    launch "shard-${i}" retrieval_server "${model_flags[@]}"
    shard_list+=("shard-${i}=$(address "shard-${i}")")
  done
  local shards_flag
  shards_flag="$(IFS=,; echo "${shard_list[*]}")"
  echo router >> "${DIR}/names"
  launch router router --retrieval_shards="${shards_flag}" --shard_timeout_ms="${SHARD_TIMEOUT_MS}"
  # A stateless ingest tier in front of the same shards (scales out beside the router).
  echo ingest >> "${DIR}/names"
  launch ingest ingest_server --retrieval_shards="${shards_flag}"
  local generation_flags=("${model_flags[@]}")
  [[ -n "${GENERATOR_MODEL}" ]] && generation_flags+=(--generator_model="${GENERATOR_MODEL}")
  echo generation >> "${DIR}/names"
  launch generation generation_server "${generation_flags[@]}"
  echo agents >> "${DIR}/names"
  launch agents agents_server "${generation_flags[@]}"
  echo eval >> "${DIR}/names"
  launch eval eval_server
  write_env
  cat "${DIR}/cluster.env"
}

# True while pid $1 runs (an exited process that its parent has not reaped yet,
# a zombie, counts as gone: our processes are not children of later calls).
alive() {
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "${state}" && "${state}" != Z && "${state}" != X ]]
}

# Waits up to $2 seconds for pid $1 to exit.
wait_gone() {
  local pid="$1" seconds="$2"
  for _ in $(seq 1 $((seconds * 20))); do
    alive "${pid}" || return 0
    sleep 0.05
  done
  return 1
}

stop() {
  local failed=0
  # The router first, so that no new work reaches the others.
  local order
  order="$(names | grep -x router || true) $(names | grep -vx router || true)"
  for name in ${order}; do
    [[ -f "${DIR}/${name}.pid" ]] || continue
    local pid
    pid="$(cat "${DIR}/${name}.pid")"
    alive "${pid}" || { rm -f "${DIR}/${name}.pid"; continue; }
    kill -CONT "${pid}" 2>/dev/null || true
    kill -TERM "${pid}"
    if ! wait_gone "${pid}" 10; then
      echo "cluster.sh: ${name} (pid ${pid}) did not drain in 10 s; killing it" >&2
      kill -KILL "${pid}" 2>/dev/null || true
      failed=1
    fi
    rm -f "${DIR}/${name}.pid"
  done
  rm -f "${DIR}/names"
  echo "cluster.sh: stopped (data kept in ${DIR}/data)"
  return "${failed}"
}

status() {
  for name in $(names); do
    local pid state
    pid="$(cat "${DIR}/${name}.pid" 2>/dev/null || echo -)"
    if [[ "${pid}" != - ]] && alive "${pid}"; then state=running; else state=down; fi
    printf '%-12s %-8s pid %-8s %s\n' "${name}" "${state}" "${pid}" "$(address "${name}" 2>/dev/null || true)"
  done
}

case "${COMMAND}" in
  start) start ;;
  up)
    trap 'stop; exit 0' INT TERM
    start
    echo "cluster.sh: running; Ctrl-C stops it"
    while true; do sleep 1; done
    ;;
  stop) stop ;;
  status) status ;;
  kill-shard)
    [[ -n "${SHARD_INDEX}" ]] || usage
    pid="$(cat "${DIR}/shard-${SHARD_INDEX}.pid")"
    kill -KILL "${pid}"
    wait_gone "${pid}" 10
    echo "cluster.sh: killed shard-${SHARD_INDEX} (pid ${pid})"
    ;;
  start-shard)
    [[ -n "${SHARD_INDEX}" ]] || usage
    name="shard-${SHARD_INDEX}"
    if alive "$(cat "${DIR}/${name}.pid" 2>/dev/null || echo 0)"; then
      echo "cluster.sh: ${name} is running" >&2
      exit 1
    fi
    # Same port (the router knows it) and same data directory (its store).
    eval "command=($(cat "${DIR}/${name}.cmd"))"
    PORT="$(cat "${DIR}/${name}.port")" BIN_DIR="$(dirname "${command[0]}")" \
      launch "${name}" "$(basename "${command[0]}")" "${command[@]:1}"
    write_env
    echo "cluster.sh: started ${name} on $(address "${name}")"
    ;;
  *) usage ;;
esac
