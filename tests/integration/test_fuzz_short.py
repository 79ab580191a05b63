"""test_fuzz_short.py: every libFuzzer harness runs a few seconds in make check.

One test per tests/fuzz/fuzz_*.c: scripts/run-fuzz runs the built harness
($FAXPOST_BUILD/fuzz/fuzz_NAME; make check builds $(FUZZ_TARGETS) first, this test
builds nothing) for FUZZ_SHORT_SECONDS (default 5, less when there are so many
harnesses that the whole would pass 90 s) on its seed corpus, after replaying
its crash reproducers, with a throw-away work folder. A missing program, a crash, a
sanitizer report, a leak or a reproducer that still fails is a failure. The long run is
`make fuzz` (docs/fuzzing.md).
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

SRC = os.environ.get("FAXPOST_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("FAXPOST_BUILD") or os.path.join(SRC, "build")
BUDGET = 90		# seconds for all harnesses together (make check: under 2 minutes)


def harnesses():
    d = os.path.join(SRC, "tests", "fuzz")
    if not os.path.isdir(d):
        return []
    return sorted(f[:-2] for f in os.listdir(d) if f.startswith("fuzz_") and f.endswith(".c"))


# 5 s each, less when there are many harnesses (about 1.5 s each go to start-up and the
# replay of reproducers), never under 2 s.
SECONDS = int(os.environ.get("FUZZ_SHORT_SECONDS", "0")) or \
    max(2, min(5, int(BUDGET / max(1, len(harnesses())) - 1.5)))


class FuzzShort(unittest.TestCase):
    def run_harness(self, name):
        with tempfile.TemporaryDirectory(prefix="faxpost-fuzz-short.") as work:
            p = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "run-fuzz"),
                                "-t", str(SECONDS), "--work", work, BUILD, name],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=SECONDS + 50)
            out = p.stdout.decode("utf-8", "replace")
            if p.returncode != 0:
                logs = []
                for log in ("replay.log", "fuzz.log"):
                    path = os.path.join(work, name, log)
                    if os.path.exists(path):
                        with open(path, errors="replace") as f:
                            logs.append("--- %s (last lines)\n%s" % (log, "".join(f.readlines()[-40:])))
                self.fail("%s\n%s" % (out, "\n".join(logs)))
            self.assertIn("1 passed, 0 failed", out)
            m = re.search(r"runs=(\d+)", out)
            self.assertTrue(m and int(m.group(1)) > 0, out)


def _make_test(name):
    def test(self):
        self.run_harness(name)
    test.__doc__ = "%s runs %d s on its corpus without a finding" % (name, SECONDS)
    return test


for _name in harnesses():
    setattr(FuzzShort, "test_" + _name, _make_test(_name))


if __name__ == "__main__":
    unittest.main()
