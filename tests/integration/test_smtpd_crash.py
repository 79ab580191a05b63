"""test_smtpd_crash.py: kill -9 smtpd and master at random points under load.

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


if __name__ == "__main__":
    unittest.main()
