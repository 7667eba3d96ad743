# SPDX-License-Identifier: Apache-2.0
"""Layers point one way: services -> daemon core -> libcubenet -> the cubes'
ABI. Every #include "..." of the tree is resolved the way the build resolves
it (the including file's folder, then the include folders), and no file may
reach a layer above its own; the daemon core names no service's module
outside its comments."""
import os
import re
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)

# The folders the build adds with -I, lowest layer first.
SEARCH = ["cubes/lib", "cubes/lib/abi", "core", "core/client", "core/daemon", ""]


def layer(path):
    """0 the cubes and their ABI, 1 libcubenet, 2 the daemon core, 3 a service."""
    if path.startswith("cubes/"):
        return 0
    if path.startswith("core/daemon/"):
        return 2
    if path.startswith("core/"):
        return 1
    if path.startswith("services/"):
        return 3
    return None


def sources(top):
    for d, _, files in os.walk(os.path.join(ROOT, top)):
        for f in files:
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), ROOT)


def resolve(src, name):
    for d in [os.path.dirname(src)] + SEARCH:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.exists(os.path.join(ROOT, p)):
            return p
    return None  # a system or generated header (skeletons)


class Layers(unittest.TestCase):
    def test_no_include_reaches_up(self):
        bad = []
        for top in ("cubes", "core", "services"):
            for src in sources(top):
                with open(os.path.join(ROOT, src), encoding="utf-8") as f:
                    text = f.read()
                for name in INCLUDE.findall(text):
                    dst = resolve(src, name)
                    if dst and layer(dst) is not None and layer(dst) > layer(src):
                        bad.append(f"{src} includes {dst}")
        self.assertEqual(bad, [])

    def test_the_daemon_core_names_no_service(self):
        services = [s for s in os.listdir(os.path.join(ROOT, "services"))
                    if os.path.isdir(os.path.join(ROOT, "services", s)) and s != "core"]
        self.assertTrue(services)
        word = re.compile(r'"(?:/)?cubenet-(%s)\b' % "|".join(map(re.escape, services)))
        bad = []
        for src in sources("core"):
            with open(os.path.join(ROOT, src), encoding="utf-8") as f:
                code = COMMENT.sub("", f.read())
            bad += [f"{src}: {m.group(0)}" for m in word.finditer(code)]
        self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main()
