#!/usr/bin/env python3
"""Run a criterion bench several times and print weft's ratios to its peers.

Usage: python3 benches/report.py [--launches N] [--bench executor] [-- criterion args]

Multi-thread figures on a small VM are bimodal from one process launch to the
next, so the bench runs N times (default 5) and, for each workload, the table
gives the median of the per-launch medians and the minimum of them, and the
ratio weft / best peer (tokio or smol) for both.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRITERION = os.path.join(ROOT, "target", "criterion")
# Peers: the other runtimes, and for the promise bench "futures", the same
# work written with plain futures (futures-util) on the same runtime.
RUNTIMES = ["weft", "tokio", "smol", "futures"]
PEERS = ["tokio", "smol", "futures"]


def run_once(bench, extra):
    started = time.time()
    # --workspace: the bench may belong to any crate (queue and events are
    # weft-messaging's).
    cmd = ["cargo", "bench", "--workspace", "--bench", bench, "--"] + extra
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    medians = {}
    for group in sorted(os.listdir(CRITERION)):
        for rt in RUNTIMES:
            path = os.path.join(CRITERION, group, rt, "new", "estimates.json")
            if os.path.exists(path) and os.path.getmtime(path) >= started:
                with open(path) as f:
                    medians[(group, rt)] = json.load(f)["median"]["point_estimate"]
    return medians


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--bench", default="executor")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()

    runs = []
    for i in range(args.launches):
        print(f"launch {i + 1}/{args.launches}…", file=sys.stderr)
        runs.append(run_once(args.bench, args.extra))

    groups = sorted({g for run in runs for (g, _) in run})
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"- command: `python3 benches/report.py --launches {args.launches} --bench {args.bench}`")
    print(f"- machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}")
    print(f"- commit: {commit}, date: {date.today().isoformat()}")
    print()
    shown = [rt for rt in RUNTIMES if any((g, rt) in run for run in runs for g in groups)]
    print("| workload | " + " | ".join(shown) + " | weft / best peer (median) | weft / best peer (min) |")
    print("| --- | " + " | ".join("---" for _ in shown) + " | --- | --- |")
    for group in groups:
        per_rt = {rt: [run[(group, rt)] for run in runs if (group, rt) in run] for rt in RUNTIMES}
        med = {rt: statistics.median(v) for rt, v in per_rt.items() if v}
        low = {rt: min(v) for rt, v in per_rt.items() if v}
        cells = [f"{fmt(med[rt])} (min {fmt(low[rt])})" if rt in med else "–" for rt in shown]
        peers = [rt for rt in PEERS if rt in med]
        if "weft" in med and peers:
            ratio_med = f"{med['weft'] / min(med[p] for p in peers):.2f}"
            ratio_low = f"{low['weft'] / min(low[p] for p in peers):.2f}"
        else:
            ratio_med = ratio_low = "–"
        print(f"| {group} | " + " | ".join(cells) + f" | {ratio_med} | {ratio_low} |")


if __name__ == "__main__":
    main()
