#!/usr/bin/env python3
"""run.py: the integration-test runner.

Contract: finds test_*.py in the folders given (default tests/integration), runs every
unittest test in them, one module at a time, and ends with the line
"N passed, M failed" (", K skipped" when any were skipped) that CI counts.
Tests marked with fixture.interop run only with --interop (make interop).
Exit status 0 only when nothing failed. Use -k SUBSTR to pick tests by name.
"""
import argparse
import importlib.util
import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def load_module(path):
    name = "itest_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))
    spec.loader.exec_module(mod)
    return mod


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--interop", action="store_true")
    ap.add_argument("-k", dest="pattern", default=None)
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()
    os.environ["FAXPOST_BUILD"] = os.path.abspath(args.build)
    os.environ["FAXPOST_SRC"] = os.path.abspath(os.path.join(HERE, "..", ".."))
    if args.interop:
        os.environ["FAXPOST_INTEROP"] = "1"
    sys.path.insert(0, HERE)
    dirs = args.dirs or [HERE]
    files = []
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if f.startswith("test_") and f.endswith(".py"):
                files.append(os.path.join(d, f))
    passed = failed = skipped = 0
    loader = unittest.TestLoader()
    for path in files:
        try:
            mod = load_module(path)
            tests = list(iter_tests(loader.loadTestsFromModule(mod)))
        except Exception:
            print("FAIL %s (import)\n%s" % (path, traceback.format_exc()), flush=True)
            failed += 1
            continue
        for t in tests:
            if args.pattern and args.pattern not in t.id():
                continue
            res = Result()
            t0 = time.time()
            t.run(res)
            dt = time.time() - t0
            name = t.id().replace("itest_", "")
            if res.errors or res.failures:
                failed += 1
                print("FAIL %s (%.1fs)" % (name, dt), flush=True)
                for _, tb in res.errors + res.failures:
                    print(tb, flush=True)
            elif res.skipped:
                skipped += 1
                print("SKIP %s: %s" % (name, res.skipped[0][1]), flush=True)
            else:
                passed += 1
                print("PASS %s (%.1fs)" % (name, dt), flush=True)
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
