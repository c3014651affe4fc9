#!/bin/sh
# The RabbitMQ bench: weft's queue on the broker, lapin on weft, lapin on
# tokio and pika, in interleaved rounds, against a private RabbitMQ node
# (weft_test_support::rabbitmq, started and stopped by the bench itself).
#
#   benches/rabbitmq/run.sh                 # the real run (20 000 messages, 5 rounds)
#   WEFT_BENCH_MESSAGES=400 WEFT_BENCH_ROUNDS=1 benches/rabbitmq/run.sh   # a smoke run
#
# pika goes into a virtual environment under target/ the first time (pip),
# and is reused after. Settings: WEFT_BENCH_MESSAGES, WEFT_BENCH_ROUNDS,
# WEFT_BENCH_PUBLISHERS (default 1,16).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/target/rabbitmq-bench-venv"
if ! "$venv/bin/python" -c 'import pika' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pika
fi
cd "$root"
WEFT_PIKA_PYTHON="$venv/bin/python" exec cargo bench -p weft-rabbitmq --bench rabbitmq
