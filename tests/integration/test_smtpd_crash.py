"""test_smtpd_crash.py: kill -9 smtpd and master at random points under load; named
crash points; the fsync/rename/reply order under strace.

Clients send numbered messages (X-Test-Seq) as fast as they can over several
connections while a killer SIGKILLs a random smtpd process, or master and its whole
tree (then starts master again). Afterwards: every message that got "250 ... queued as
ID" is in incoming/ID, complete (end record) and with its own body; no file in
incoming/ is partial. Messages that never got their 250 may or may not be there.
"""
import os
import random
import re
import signal
import socket
import threading
import time
import unittest

import fixture
from test_smtpd_util import read_queue_file

LOAD_SECONDS = 15
CLIENTS = 8


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def send_one(port, seq):
    """One message; returns the queue ID on a 250, None on anything else."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError
                if line[3:4] != b"-":
                    return line

        if not reply().startswith(b"220"):
            return None
        s.sendall(b"EHLO crash.example\r\n")
        if not reply().startswith(b"250"):
            return None
        s.sendall(b"MAIL FROM:<load@example.org>\r\nRCPT TO:<sink@faxpost.test>\r\nDATA\r\n")
        for want in (b"250", b"250", b"354"):
            if not reply().startswith(want):
                return None
        body = b"X-Test-Seq: %d\r\nSubject: crash %d\r\n\r\n" % (seq, seq)
        body += (b"line %d of the body, long enough to cost a write\r\n" % seq) * 20
        s.sendall(body + b".\r\n")
        m = re.match(rb"250 2\.0\.0 Ok: queued as ([0-9A-Z]+)", reply())
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        return m.group(1).decode() if m else None
    finally:
        s.close()


class SmtpdCrash(unittest.TestCase):
    def test_kill9_under_load(self):
        port = fixture.free_port()
        inst = fixture.Instance("smtpd-crash", services=["127.0.0.1:%d inet n - n - 2 smtpd" % port],
                                mynetworks="127.0.0.0/8", mydestination="faxpost.test",
                                service_throttle_time="1s")
        self.addCleanup(inst.stop)
        inst.start()
        acked = {}              # seq -> queue ID
        lock = threading.Lock()
        stop = threading.Event()
        counter = iter(range(1, 10 ** 9))
        kills = {"smtpd": 0, "master": 0}

        def client():
            while not stop.is_set():
                with lock:
                    seq = next(counter)
                try:
                    qid = send_one(port, seq)
                except (OSError, EOFError):
                    qid = None
                    time.sleep(0.02)
                if qid:
                    with lock:
                        acked[seq] = qid

        def restart_master():
            pid = inst.master_pid()
            tree = fixture.descendants(pid) if pid else {}
            if pid:
                os.kill(pid, signal.SIGKILL)
                kills["master"] += 1
            for p in tree:      # its smtpd processes go too (they are the same crash)
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if inst.master is not None:
                inst.master.wait(5)
            deadline = time.monotonic() + 10
            while any(fixture._proc_stat(p) for p in tree) and time.monotonic() < deadline:
                time.sleep(0.02)
            inst.start(timeout=15)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        rnd = random.Random(4141)
        end = time.monotonic() + LOAD_SECONDS
        try:
            while time.monotonic() < end:
                time.sleep(rnd.uniform(0.1, 0.6))
                if rnd.random() < 0.2:
                    restart_master()
                    continue
                pids = [p for p in inst.children() if comm(p) == "smtpd"]
                if pids:
                    try:
                        os.kill(rnd.choice(pids), signal.SIGKILL)
                        kills["smtpd"] += 1
                    except ProcessLookupError:
                        pass
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        inst.stop()
        self.assertGreater(kills["smtpd"], 5, kills)
        self.assertGreater(kills["master"], 0, kills)
        self.assertGreater(len(acked), 50, "too little load got through: %d" % len(acked))
        incoming = set(inst.queue_files("incoming"))
        for name in incoming:   # nothing partial, ever
            read_queue_file(os.path.join(inst.queue, "incoming", name))
        lost = [(seq, qid) for seq, qid in acked.items() if qid not in incoming]
        self.assertEqual(lost, [], "acknowledged but not in incoming/")
        for seq, qid in acked.items():
            q = read_queue_file(os.path.join(inst.queue, "incoming", qid))
            self.assertIn(b"X-Test-Seq: %d\r\n" % seq, q["content"])
            self.assertTrue(q["content"].endswith(b"long enough to cost a write\r\n"), qid)
        print("crash test: %d acknowledged, %d files in incoming/, kills %s"
              % (len(acked), len(incoming), kills))


def finished(lines, i):
    """Index of the line with the result of the call started at lines[i] (strace -f
    splits calls of threads into "<unfinished ...>" and "<... NAME resumed>")."""
    if "<unfinished ...>" not in lines[i]:
        return i
    tid, rest = split_trace(lines[i])
    name = rest.split("(", 1)[0]
    return next(j for j in range(i + 1, len(lines))
                if split_trace(lines[j])[0] == tid
                and split_trace(lines[j])[1].startswith("<... %s resumed>" % name))


def split_trace(line):
    """(tid, call text) of an strace -f line ("834   renameat2(...)")."""
    m = re.match(r"^(\d+)\s+(.*)$", line)
    return (m.group(1), m.group(2)) if m else ("", line)


class SmtpdCrashPoints(unittest.TestCase):
    """Named crash points (lib/mail/queue_crash.h, plus smtpd_before_250): smtpd dies
    by SIGKILL exactly there, on the 3rd message. Messages 1-2 got their 250 and are
    complete in incoming/; the 3rd got no 250; it is in incoming/ (complete) only when
    the kill came after its rename; nothing partial is ever in incoming/."""

    POINTS = [("qw_before_write", False), ("qw_before_sync", False),
              ("qw_after_sync", False), ("qw_after_rename", True),
              ("qw_after_dirsync", True), ("smtpd_before_250", True)]

    def test_crash_points(self):
        for point, third_published in self.POINTS:
            inst = fixture.Instance("smtpd-cp", mynetworks="127.0.0.0/8",
                                    mydestination="faxpost.test", smtpd_commit_threads=1)
            port = fixture.free_port()
            p = fixture.Proc([os.path.join(fixture.LIBEXEC, "smtpd"), "-c", inst.etc, "-S",
                              "127.0.0.1:%d" % port],
                             env={"FAXPOST_CRASHPOINT": "%s:3" % point}, out_dir=inst.log_dir)
            try:
                fixture.wait_listen(port, 10)
                acked = {}
                for seq in (1, 2, 3):
                    try:
                        qid = send_one(port, seq)
                    except (OSError, EOFError):
                        qid = None
                    if qid:
                        acked[seq] = qid
                self.assertEqual(p.wait(10), -signal.SIGKILL, point)
                self.assertEqual(sorted(acked), [1, 2], point)
                incoming = inst.queue_files("incoming")
                seqs = []
                for name in incoming:
                    q = read_queue_file(os.path.join(inst.queue, "incoming", name))
                    seqs.append(int(re.search(rb"X-Test-Seq: (\d+)", q["content"]).group(1)))
                self.assertEqual(sorted(seqs), [1, 2, 3] if third_published else [1, 2], point)
                for seq, qid in acked.items():
                    self.assertIn(qid, incoming)
            finally:
                p.stop()

    def test_syscall_order(self):
        """strace: for every message, fdatasync(tmp file) < rename(tmp -> incoming/ID)
        < fsync(incoming/) < the write of "250 ... queued as ID" (security.md 5.2)."""
        inst = fixture.Instance("smtpd-strace", mynetworks="127.0.0.0/8",
                                mydestination="faxpost.test")
        port = fixture.free_port()
        trace = os.path.join(inst.dir, "strace.out")
        p = fixture.Proc(["strace", "-f", "-y", "-s", "200", "-o", trace, "-e",
                          "trace=fdatasync,fsync,rename,renameat,renameat2,sendto,write",
                          os.path.join(fixture.LIBEXEC, "smtpd"), "-c", inst.etc, "-S",
                          "127.0.0.1:%d" % port], out_dir=inst.log_dir)
        try:
            fixture.wait_listen(port, 20)
            acked = []
            threads = []
            lock = threading.Lock()

            def worker(base):
                for i in range(10):
                    qid = send_one(port, base + i)
                    with lock:
                        acked.append(qid)

            for b in range(5):
                threads.append(threading.Thread(target=worker, args=(b * 100,)))
                threads[-1].start()
            for t in threads:
                t.join(60)
        finally:
            p.stop()
        self.assertEqual(len(acked), 50)
        self.assertNotIn(None, acked)
        with open(trace) as f:
            lines = f.read().splitlines()
        for qid in acked:
            ren = [i for i, ln in enumerate(lines)
                   if "rename" in ln and "incoming/%s\"" % qid in ln]
            self.assertEqual(len(ren), 1, qid)
            r = ren[0]
            self.assertIn("= 0", lines[finished(lines, r)], qid)
            tmp = re.search(r'"([^"]*/tmp/[^"]+)"', lines[r]).group(1)
            synced = [i for i, ln in enumerate(lines[:r])
                      if split_trace(ln)[1].startswith("fdatasync(") and "<%s>" % tmp in ln]
            self.assertTrue(synced, "%s: no fdatasync of %s before its rename" % (qid, tmp))
            tid = split_trace(lines[r])[0]
            starts = [i for i, ln in enumerate(lines) if i > r and split_trace(ln)[0] == tid
                      and split_trace(ln)[1].startswith("fsync(") and "/incoming>" in ln]
            self.assertTrue(starts, "%s: no fsync of incoming/ after the rename" % qid)
            done = finished(lines, starts[0])
            self.assertIn("= 0", lines[done], qid)
            reply = [i for i, ln in enumerate(lines) if "queued as %s" % qid in ln
                     and " sendto(" in ln]
            self.assertEqual(len(reply), 1, qid)
            self.assertLess(done, reply[0], "%s: 250 before the directory fsync" % qid)


if __name__ == "__main__":
    unittest.main()
