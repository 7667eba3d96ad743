#!/bin/bash
# The benchmarks still run and measure something: cube-cost, meta-bench and
# a quick xdp-bench pass (live frames through the ceiling, the chain, the
# monolithic build and iptables DNAT). Figures are printed, never judged:
# timings are not pass/fail; a zero or a failure to run is.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "*** SKIP bench_smoke: needs root ***"; exit 77; }
build/cube-cost 10000 | tee /tmp/cube-cost.$$
build/meta-bench 10000 | tee /tmp/meta-bench.$$
benchmarks/xdp_bench.sh --quick | tee /tmp/xdp-bench.$$
python3 - /tmp/cube-cost.$$ /tmp/meta-bench.$$ /tmp/xdp-bench.$$ <<'PY'
import re, sys
cost, meta, xdp = (open(p).read() for p in sys.argv[1:])
rows = re.findall(r"^\| (.+?) +\| (xdp|tc) +\| +(-?\d+) \|$", cost, re.M)
assert len(rows) >= 15, "cube-cost printed too few rows"
for what, hook, ns in rows:
    if "hop" not in what:
        assert int(ns) > 0, f"cube-cost: {what} ({hook}) measured 0"
assert len(re.findall(r"\| \d+ \| \d+ \| \d+ \|", meta)) == 3, "meta-bench rows"
assert " 0 |" not in meta, "meta-bench: a chain failed"
row = [r for r in xdp.splitlines() if r.startswith("| 64 |")]
assert row, "xdp-bench printed no 64-byte row"
values = [float(v) for v in row[0].strip("|").split("|")[1:5]]
assert all(v > 0 for v in values), f"a scenario delivered nothing: {row[0]}"
print("bench_smoke: 1 passed, 0 failed")
PY
rm -f /tmp/cube-cost.$$ /tmp/meta-bench.$$ /tmp/xdp-bench.$$
