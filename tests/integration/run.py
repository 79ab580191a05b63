#!/usr/bin/env python3
"""run.py: the integration-test runner.

Contract: finds test_*.py in the folders given (default tests/integration), runs every
unittest test in them and ends with the line "N passed, M failed" (", K skipped" when
any were skipped) that CI counts. Modules run in parallel worker processes (-j N,
default $FAXPOST_TEST_JOBS or 3: most tests wait on sockets, timers and peers, not on
the CPU); a module that sets SERIAL = True at top level runs alone, after the others.
Each module's output is printed whole when it ends, so lines never interleave.
Tests marked with fixture.interop run only with --interop (make interop).
Exit status 0 only when nothing failed. -k SUBSTR picks tests by name.
"""
import argparse
import importlib.util
import os
import re
import subprocess
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


class Reporter(unittest.TestResult):
    """Prints one PASS/FAIL/SKIP line per test as it ends, and counts them. Runs under a
    TestSuite, so setUpClass/setUpModule (and their tear-downs) are honoured; a failure
    in one of those is reported as a failed pseudo-test."""

    def __init__(self):
        super().__init__()
        self.passed = self.failed_n = self.skipped_n = 0
        self._t0 = {}
        self._outcome = {}

    def startTest(self, test):
        super().startTest(test)
        self._t0[test.id()] = time.time()

    def _name(self, test):
        return test.id().replace("itest_", "")

    def _done(self, test, kind, detail=None):
        dt = max(0.0, time.time() - self._t0.get(test.id(), time.time()))
        name = self._name(test)
        if kind == "PASS":
            self.passed += 1
            print("PASS %s (%.1fs)" % (name, dt), flush=True)
        elif kind == "SKIP":
            self.skipped_n += 1
            print("SKIP %s: %s" % (name, detail), flush=True)
        else:
            self.failed_n += 1
            print("FAIL %s (%.1fs)\n%s" % (name, dt, detail), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._done(test, "PASS")

    def addError(self, test, err):
        super().addError(test, err)
        self._done(test, "FAIL", self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._done(test, "FAIL", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._done(test, "SKIP", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._done(test, "PASS")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._done(test, "FAIL", "unexpected success")


def run_module(path, pattern):
    """Run one module's tests in this process; print results; return counts."""
    try:
        mod = load_module(path)
        tests = list(iter_tests(unittest.TestLoader().loadTestsFromModule(mod)))
    except Exception:
        print("FAIL %s (import)\n%s" % (path, traceback.format_exc()), flush=True)
        return 0, 1, 0
    if pattern:
        tests = [t for t in tests if pattern in t.id()]
    rep = Reporter()
    unittest.TestSuite(tests).run(rep)
    return rep.passed, rep.failed_n, rep.skipped_n


def is_serial(path):
    with open(path, errors="replace") as f:
        return re.search(r"^SERIAL\s*=\s*True", f.read(), re.M) is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--interop", action="store_true")
    ap.add_argument("-k", dest="pattern", default=None)
    ap.add_argument("-j", dest="jobs", type=int,
                    default=int(os.environ.get("FAXPOST_TEST_JOBS", "3")))
    ap.add_argument("--one", help=argparse.SUPPRESS)   # worker mode: run one module
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()
    os.environ["FAXPOST_BUILD"] = os.path.abspath(args.build)
    os.environ["FAXPOST_SRC"] = os.path.abspath(os.path.join(HERE, "..", ".."))
    if args.interop:
        os.environ["FAXPOST_INTEROP"] = "1"
    sys.path.insert(0, HERE)
    if args.one:
        p, f, s = run_module(args.one, args.pattern)
        print("@@counts %d %d %d" % (p, f, s), flush=True)
        return 0
    files = []
    for d in args.dirs or [HERE]:
        for f in sorted(os.listdir(d)):
            if f.startswith("test_") and f.endswith(".py"):
                files.append(os.path.join(d, f))
    if args.pattern:    # skip modules with no matching test without importing them all
        def may_match(f):
            text = os.path.basename(f) + open(f, errors="replace").read()
            return all(piece in text for piece in args.pattern.split(".") if piece)
        files = [f for f in files if may_match(f)]
    parallel = [f for f in files if not is_serial(f)]
    serial = [f for f in files if is_serial(f)]
    totals = [0, 0, 0]
    t_start = time.time()

    def worker_cmd(path):
        cmd = [sys.executable, os.path.abspath(__file__), "--build", args.build, "--one", path]
        if args.pattern:
            cmd += ["-k", args.pattern]
        if args.interop:
            cmd.append("--interop")
        return cmd

    def finish(path, proc, out_path):
        proc.wait()
        with open(out_path, errors="replace") as f:
            out = f.read()
        os.unlink(out_path)
        m = re.search(r"^@@counts (\d+) (\d+) (\d+)$", out, re.M)
        out = re.sub(r"^@@counts .*\n?", "", out, flags=re.M)
        sys.stdout.write(out)
        if not m:
            print("FAIL %s (worker died, exit %s)" % (path, proc.returncode), flush=True)
            totals[1] += 1
        else:
            for i in range(3):
                totals[i] += int(m.group(i + 1))
        sys.stdout.flush()

    tmpdir = os.path.join(os.environ["FAXPOST_BUILD"], "itest-out")
    os.makedirs(tmpdir, exist_ok=True)
    running = []
    queue = list(parallel)
    jobs = max(1, args.jobs)
    while queue or running:
        while queue and len(running) < jobs:
            path = queue.pop(0)
            out_path = os.path.join(tmpdir, "%d-%s.out" % (os.getpid(), os.path.basename(path)))
            out = open(out_path, "w")
            proc = subprocess.Popen(worker_cmd(path), stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            out.close()
            running.append((path, proc, out_path))
        time.sleep(0.1)
        for item in list(running):
            if item[1].poll() is not None:
                running.remove(item)
                finish(*item)
    for path in serial:
        out_path = os.path.join(tmpdir, "%d-%s.out" % (os.getpid(), os.path.basename(path)))
        with open(out_path, "w") as out:
            proc = subprocess.Popen(worker_cmd(path), stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        finish(path, proc, out_path)
    print("integration tests took %.0f s with %d jobs" % (time.time() - t_start, jobs), flush=True)
    line = "%d passed, %d failed" % (totals[0], totals[1])
    if totals[2]:
        line += ", %d skipped" % totals[2]
    print(line, flush=True)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
