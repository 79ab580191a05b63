"""kill -9 of qmgr and of smtp processes in the middle of deliveries: every accepted
message reaches the sink at least once, none is lost, no file is corrupt
(security.md 5.1 I1, I3, I4)."""
import os
import re
import signal
import smtplib
import time
import unittest

import fixture
from test_qmgr import services, wait_until, sink, sink_files


def procs_named(inst, name):
    out = []
    for pid in inst.children():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(argv0) == name.encode():
            out.append(pid)
    return out


class QmgrCrash(unittest.TestCase):
    def test_kill9_qmgr_and_smtp_mid_delivery(self):
        port, sport = fixture.free_port(), fixture.free_port()
        n = 60
        inst = fixture.Instance("qmgr-crash", services(port),
                                relayhost="[127.0.0.1]:%d" % sport, mydestination="faxpost.test",
                                smtp_tls_security_level="none", minimal_backoff_time="1s",
                                maximal_backoff_time="1s", queue_run_delay="1s",
                                service_throttle_time="1s",
                                smtp_connection_cache_time_limit="0s")
        spool = os.path.join(inst.dir, "sink")
        # the sink waits 1s before answering DATA: deliveries are in flight when we kill
        with inst, sink(sport, spool, "-w", "1"):
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
                for i in range(n):
                    s.sendmail("alice@faxpost.test", ["r%d@remote.example" % (i % 7)],
                               "Subject: crash %d\r\nX-Seq: %d\r\n\r\nbody\r\n" % (i, i))
            kills = 0
            deadline = time.monotonic() + 40
            for victim in ("qmgr", "smtp", "qmgr", "smtp", "smtp", "qmgr"):
                time.sleep(0.4)
                pids = wait_until(lambda: procs_named(inst, victim), timeout=15,
                                  what="a running %s" % victim)
                os.kill(pids[0], signal.SIGKILL)
                kills += 1
            self.assertEqual(kills, 6)

            def seqs():
                out = set()
                for data in sink_files(spool):
                    m = re.search(rb"X-Seq: (\d+)", data)
                    if m:
                        out.add(int(m.group(1)))
                return out
            wait_until(lambda: len(seqs()) == n and not any(
                inst.queue_files(q) for q in ("incoming", "active", "deferred")),
                timeout=max(5, deadline - time.monotonic() + 20),
                what="all %d messages at the sink and an empty queue (have %d)" % (n, len(seqs())))
            self.assertEqual(seqs(), set(range(n)))
            self.assertEqual(inst.queue_files("corrupt"), [])
            log = "\n".join(inst.log_lines())
            # a restarted qmgr found messages in active/ and put them back first
            self.assertRegex(log, r"qmgr\[\d+\]: recovered \d+ messages? from active/")
            dups = len(sink_files(spool)) - n
            # duplicates only from the kill windows (at most one per killed delivery)
            self.assertLessEqual(dups, 6 * 20)


if __name__ == "__main__":
    unittest.main()
