# SPDX-License-Identifier: Apache-2.0
"""What `cmake --install` puts on a machine, installed into a scratch root
(DESTDIR): cubectl finds the YANG modules installed beside it and answers
help with no daemon; the man pages are there, well-formed, name only pages
that are there too, and say what the binaries' --help says."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(__file__)
BUILD = os.path.realpath(os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build")))
SOURCE = os.path.realpath(os.path.join(HERE, "../.."))
PREFIX = "/opt/cubenet-install-test"


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cubenet-install-")
        cls.root = os.path.join(cls.tmp, "root")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", PREFIX],
                           env=dict(os.environ, DESTDIR=cls.root), capture_output=True,
                           text=True)
        if r.returncode:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise RuntimeError("cmake --install: " + r.stdout + r.stderr)
        cls.prefix = cls.root + PREFIX

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def pages(self):
        """Every installed man page: (name, section) -> its text."""
        out = {}
        for sec in range(1, 9):
            d = self.path("share/man", f"man{sec}")
            for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                name, _, s = f.rpartition(".")
                with open(os.path.join(d, f)) as fh:
                    out[(name, s)] = fh.read()
        return out

    def test_the_yang_modules_are_installed_for_cubectl(self):
        yang = self.path("share/cubenet/yang")
        sources = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(SOURCE, "services"))
                         for f in fs if f.endswith(".yang"))
        self.assertEqual(sorted(os.listdir(yang)), sorted(os.path.basename(f) for f in sources))
        for f in sources:
            with open(f) as a, open(os.path.join(yang, os.path.basename(f))) as b:
                self.assertEqual(a.read(), b.read(), f)
        for binary in ("bin/cubectl", "sbin/cubenetd", "share/bash-completion/completions/cubectl"):
            self.assertTrue(os.path.isfile(self.path(binary)), binary)

        # The installed cubectl, with no daemon, reads the modules beside it.
        sock = os.path.join(self.tmp, "nobody.sock")
        env = dict(os.environ, CUBECTL_SOCKET=sock, HOME=self.tmp)
        for name in ("CUBECTL_URL", "CUBECTL_YANG_DIR", "CUBECTL_CACHE"):
            env.pop(name, None)
        r = subprocess.run([self.path("bin/cubectl"), "help", "pods"], capture_output=True,
                           text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, f"cubectl: daemon not reachable ({sock}: Couldn't connect to "
                                   f"server): help from the installed modules in "
                                   f"{self.path('bin')}/../share/cubenet/yang\n")
        self.assertRegex(r.stdout, r"^cubenet-pods \(module, revision ")
        self.assertRegex(r.stdout, r"\n  node\s+container\s+The node itself")
        # Moved away from its modules, it says what it misses.
        lone = os.path.join(self.tmp, "lone")
        os.makedirs(lone)
        shutil.copy(self.path("bin/cubectl"), lone)
        r = subprocess.run([os.path.join(lone, "cubectl"), "help"], capture_output=True,
                           text=True, env=env)
        self.assertEqual(r.returncode, 5)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, f"cubectl: cannot reach cubenetd: {sock}: Couldn't connect to "
                                   f"server (and {lone}/../share/cubenet/yang: No such file or "
                                   "directory)\n")

    def test_man_pages_are_there_and_name_only_pages_that_are(self):
        pages = self.pages()
        self.assertIn(("cubectl", "1"), set(pages))
        self.assertIn(("cubenetd", "8"), set(pages))
        named = set()
        for (name, sec), text in pages.items():
            # groff finds no fault in it.
            r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8"], input=text,
                               capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ""), f"{name}({sec})")
            for ref, rsec in re.findall(r"^\.BR? (\S+) \((\d)\)", text, re.M):
                named.add((ref, rsec))
                self.assertIn((ref, rsec), set(pages), f"{name}({sec}) names {ref}({rsec})")
        self.assertTrue({("cubectl", "1"), ("cubenetd", "8")} <= named, named)

    def options(self, binary):
        r = subprocess.run([self.path(binary), "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout, re.findall(r"--([a-z][a-z-]*)", r.stdout)

    def test_man_pages_say_what_help_says(self):
        pages = self.pages()
        for binary, page in (("sbin/cubenetd", ("cubenetd", "8")),
                             ("bin/cubectl", ("cubectl", "1"))):
            text, names = self.options(binary)
            self.assertGreater(len(names), 5, text)
            for name in names:
                self.assertIn("\\-\\-" + name.replace("-", "\\-"), pages[page],
                              f"{page[0]}({page[1]}) misses --{name}")
        # The daemon's defaults, as its --help gives them.
        text, _ = self.options("sbin/cubenetd")
        defaults = re.findall(r"\(default (/\S+?)[,)]", text)
        self.assertIn("/run/cubenet/cubenetd.sock", defaults)
        for default in defaults:
            if "services/" in default:
                continue  # --yang-dir: the build's source tree, said in words
            self.assertIn(default, pages[("cubenetd", "8")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
