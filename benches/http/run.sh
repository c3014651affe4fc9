#!/usr/bin/env bash
# The same hyper hello-world on weft (examples/http_hello.rs, through
# weft::compat::hyper) and on tokio (benches/http/tokio_hello.rs, the same
# service and the same glue), driven by wrk at 100 and 1 000 connections.
# Runs are interleaved (weft, tokio, weft, tokio, ... for each connection
# count in each round), so a machine that drifts drifts for both. Prints
# each run, then per runtime and connection count the median requests/s,
# p50 and p99 latency, and weft / tokio ratios.
#
#   benches/http/run.sh                          # 3 rounds of 10 s runs
#   DURATION=3 ROUNDS=1 CONNS=100 benches/http/run.sh   # a smoke run
#
# Settings (environment): DURATION (seconds per run, 10), ROUNDS (3),
# CONNS ("100 1000"), THREADS (wrk's threads, the number of CPUs),
# WORKERS (the servers' worker threads; unset: each runtime's default,
# one per CPU). The load generator shares the machine with the server:
# on a small machine, pin them apart (taskset) for figures worth keeping.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"100 1000"}
THREADS=${THREADS:-$(nproc)}

# wrk, from Debian, only when missing.
if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    ${sudo} apt-get install -y wrk >/dev/null
fi

# 1 000 connections need 1 000 descriptors on each side, and some more.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cargo build --release --features hyper --example http_hello --example http_hello_tokio >&2
bin=target/release/examples
work=$(mktemp -d)
# Each server's pid goes to a file: `start` runs in a command
# substitution, a subshell, whose variables the cleanup would not see.
cleanup() {
    for pidfile in "${work}"/*.pid; do
        [ -e "${pidfile}" ] && kill "$(cat "${pidfile}")" 2>/dev/null || true
    done
    rm -rf "${work}"
}
trap cleanup EXIT

# Starts example $1 on a free loopback port; prints its URL.
start() {
    local name=$1 log="${work}/$1.log"
    "${bin}/$1" --listen 127.0.0.1:0 >"${log}" &
    echo $! >"${work}/$1.pid"
    for _ in $(seq 100); do
        if grep -qoE 'http://[0-9.:]+/' "${log}"; then
            grep -oE 'http://[0-9.:]+/' "${log}"
            return
        fi
        sleep 0.1
    done
    echo "!!! ${name} did not start" >&2
    exit 1
}
declare -A url
url[weft]=$(start http_hello)
url[tokio]=$(start http_hello_tokio)

runs="${work}/runs.tsv"
: >"${runs}"
for round in $(seq "${ROUNDS}"); do
    for conns in ${CONNS}; do
        for runtime in weft tokio; do
            out="${work}/${runtime}-${conns}-${round}.txt"
            wrk --latency -t "$((THREADS < conns ? THREADS : conns))" -c "${conns}" \
                -d "${DURATION}s" "${url[${runtime}]}" >"${out}"
            # Requests/sec, and the 50% and 99% latencies in ms.
            awk -v rt="${runtime}" -v c="${conns}" -v r="${round}" '
                function ms(v) {
                    if (v ~ /us$/) return v * 0.001
                    if (v ~ /ms$/) return v * 1
                    if (v ~ /s$/) return v * 1000
                    return v
                }
                /Requests\/sec:/ { rps = $2 }
                $1 == "50%" { p50 = ms($2) }
                $1 == "99%" { p99 = ms($2) }
                /Non-2xx|Socket errors/ { errors = errors " " $0 }
                END { printf "%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\n", r, c, rt, rps, p50, p99, errors }
            ' "${out}" | tee -a "${runs}" >&2
        done
    done
done

python3 - "${runs}" "${DURATION}" "${ROUNDS}" <<'PY'
import statistics, sys
path, duration, rounds = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
by = {}
for _round, conns, rt, rps, p50, p99, *_ in rows:
    by.setdefault((int(conns), rt), []).append((float(rps), float(p50), float(p99)))
med = lambda xs: statistics.median(xs)
print(f"\nhyper hello-world, {rounds} round(s) of {duration} s per run, medians:\n")
print("| connections | runtime | requests/s | p50 (ms) | p99 (ms) |")
print("| ---: | --- | ---: | ---: | ---: |")
for conns in sorted({c for c, _ in by}):
    for rt in ("weft", "tokio"):
        r = by.get((conns, rt), [])
        if r:
            print(f"| {conns} | {rt} | {med([x[0] for x in r]):.0f} | {med([x[1] for x in r]):.3f} | {med([x[2] for x in r]):.3f} |")
print("\n| connections | weft / tokio requests/s | weft / tokio p50 | weft / tokio p99 |")
print("| ---: | ---: | ---: | ---: |")
for conns in sorted({c for c, _ in by}):
    w, t = by.get((conns, "weft")), by.get((conns, "tokio"))
    if w and t:
        ratio = lambda i: med([x[i] for x in w]) / med([x[i] for x in t]) if med([x[i] for x in t]) else float("nan")
        print(f"| {conns} | {ratio(0):.2f} | {ratio(1):.2f} | {ratio(2):.2f} |")
PY
