#!/usr/bin/env bash
# The durable log's benches, in order: the disk's own fdatasync rate, then
# weft's durable queue beside RabbitMQ's durable quorum queue (its
# messages-per-sync line uses the rate just measured), then recovery time
# by log size. All three write under the same directory (WEFT_BENCH_DIR,
# default target/disk-bench), and the private RabbitMQ node that
# disk_queue starts keeps its data under target/rabbitmq/: one file system.
#
#   benches/disk/run.sh                     # the real thing
#   SMOKE=1 benches/disk/run.sh             # a few seconds each
#   WEFT_BENCH_RECOVERY_GIB=1 benches/disk/run.sh   # recovery up to 1 GiB
#
# Every setting of the three benches (their headers list them) passes
# through: MESSAGES, ROUNDS, PUBLISHERS, FSYNC_SECONDS, THREADS, SIZES_MIB, ...
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${SMOKE:-0}" = 1 ]; then
    export FSYNC_SECONDS=${FSYNC_SECONDS:-1} THREADS=${THREADS:-"1 4"} MESSAGES=${MESSAGES:-2000} ROUNDS=${ROUNDS:-1}
    export SIZES_MIB=${SIZES_MIB:-"1 4"} REPEATS=${REPEATS:-1}
fi

cargo bench --no-run --bench disk_fsync --bench disk_queue --bench disk_recovery >&2

echo "== disk_fsync"
fsync_out=$(cargo bench -q --bench disk_fsync 2>/dev/null)
echo "$fsync_out"
# The one-thread rate: the second field of the row whose first is 1.
rate=$(echo "$fsync_out" | awk '$1 == "1" { print $2 }')

echo "== disk_queue"
FSYNC_RATE=${rate:-} cargo bench -q --bench disk_queue 2>/dev/null

echo "== disk_recovery"
cargo bench -q --bench disk_recovery 2>/dev/null
