# SPDX-License-Identifier: Apache-2.0
"""The README's demo (demo/run.sh), run as a user runs it: it must finish
with every one of its HTTP requests answered, spread over the backends as
their weights (1, 1, 2) say, and the lb's counters consistent with what
the client saw. Needs root; exits 77 without it."""
import math
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CONNECTIONS = 300
SHARES = {"be1": 0.25, "be2": 0.25, "be3": 0.5}


class Demo(unittest.TestCase):
    def test_demo_runs_and_shows_what_it_says(self):
        r = subprocess.run([os.path.join(ROOT, "demo/run.sh")], cwd=ROOT, capture_output=True,
                           text=True, timeout=600,
                           env=dict(os.environ, CONNECTIONS=str(CONNECTIONS)))
        out = r.stdout
        self.assertEqual(r.returncode, 0, out[-3000:] + r.stderr[-3000:])
        answered = {m[0]: int(m[2]) for m in
                    re.findall(r"^  (be\d) +(\d) +(\d+) +[\d.]+%$", out, re.M)}
        self.assertEqual(set(answered), set(SHARES), out)
        self.assertEqual(sum(answered.values()), CONNECTIONS, out)
        self.assertIn("  failed: 0\n", out)
        for name, p in SHARES.items():
            # 4.5 standard deviations, plus Maglev's own imbalance (< 1%).
            slack = 4.5 * math.sqrt(CONNECTIONS * p * (1 - p)) + 0.01 * CONNECTIONS
            self.assertLessEqual(abs(answered[name] - CONNECTIONS * p), slack, answered)
        # The daemon's counters: each backend's packets add up to the VIP's,
        # which are what the chain forwarded.
        table = dict(re.findall(r"^ +(be\d) +10\.77\.0\.\d+ +\S+ +\d +(\d+) +\d+$", out, re.M))
        self.assertEqual(set(table), set(SHARES), out)
        vip_packets = int(re.search(r"^ +statistics:\n +packets: (\d+)", out, re.M).group(1))
        forwarded = int(re.search(r"^ +forwarded: (\d+)", out, re.M).group(1))
        self.assertEqual(sum(map(int, table.values())), vip_packets)
        self.assertEqual(forwarded, vip_packets)
        self.assertGreaterEqual(vip_packets, 5 * CONNECTIONS)
        self.assertIn("table-size: 65537", out)
        self.assertIn("detached; the lb node's eth0 is back to the kernel stack alone", out)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
