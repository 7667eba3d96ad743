#!/bin/bash
# The benchmarks still run and measure something: meta-bench and the whole
# of benchmarks/run.py in its quick mode (live frames through the ceiling,
# the lb chain configured through cubenetd, the monolithic build and
# iptables DNAT; cube-cost; Maglev build times; VIPs through the API).
# Figures are printed, never judged: timings are not pass/fail; a zero or a
# failure to run is.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "*** SKIP bench_smoke: needs root ***"; exit 77; }
out=$(mktemp -d /tmp/cubenet-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
build/meta-bench 10000 | tee "$out/meta-bench"
benchmarks/run.py --quick --out "$out"
python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
meta = open(os.path.join(out, "meta-bench")).read()
assert len(re.findall(r"\| \d+ \| \d+ \| \d+ \|", meta)) == 3, "meta-bench rows"
assert " 0 |" not in meta, "meta-bench: a chain failed"
run = json.load(open(os.path.join(out, "run.json")))
points = run["throughput"]
assert len(points) == len(run["scenarios"]) * len(run["sizes"]), "a throughput point is missing"
for p in points:
    assert p["delivered_mpps"] > 0, f"{p['name']} at {p['frame']} delivered nothing"
costs = run["cube_cost_ns"]
assert len(costs) >= 15, "cube-cost printed too few rows"
assert all(c["ns"] > 0 for c in costs if "hop" not in c["what"]), "cube-cost measured 0"
assert run["maglev_build"] and all(b["build_us"] > 0 for b in run["maglev_build"])
assert run["api"]["program_all_s"] > 0
assert all(run["cni"][p][op]["p50_ms"] > 0 for p in ("cubenet", "bridge") for op in ("add", "del"))
assert os.path.getsize(os.path.join(out, "throughput.png")) > 1000, "no plot"
print("bench_smoke: 1 passed, 0 failed")
PY
