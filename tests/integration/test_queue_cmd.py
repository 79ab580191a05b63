"""faxpost queue: list (text and -j), show, hold, release, delete, requeue, flush,
while the system runs; and a race of `delete ALL` with qmgr taking messages."""
import json
import os
import re
import unittest

import fixture
from test_qmgr import send, services, wait_until, sink, sink_files


class QueueCommand(unittest.TestCase):
    def test_operations(self):
        port, sport = fixture.free_port(), fixture.free_port()
        # next hop refuses connections: messages stay deferred (no retry soon)
        inst = fixture.Instance("queue-cmd", services(port),
                                relayhost="[127.0.0.1]:%d" % sport,
                                mydestination="faxpost.test", smtp_tls_security_level="none",
                                minimal_backoff_time="1h", maximal_backoff_time="1h",
                                queue_run_delay="1h")
        with inst:
            r = inst.faxpost("queue")
            self.assertEqual(r.stdout.strip(), "Mail queue is empty")
            for i in range(3):
                send(port, "alice@faxpost.test", ["r%d@remote.example" % i, "x%d@remote.example" % i],
                     body="Subject: q%d\r\n\r\nbody %d\r\n" % (i, i))
            wait_until(lambda: len(inst.queue_files("deferred")) == 3, what="3 deferred")
            r = inst.faxpost("queue", "-j")
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = [json.loads(l) for l in r.stdout.splitlines()]
            self.assertEqual(len(rows), 3)
            for row in rows:
                self.assertEqual(row["queue_name"], "deferred")
                self.assertEqual(row["sender"], "alice@faxpost.test")
                self.assertEqual(len(row["recipients"]), 2)
                self.assertIn("Connection refused", row["recipients"][0]["delay_reason"])
                self.assertIsInstance(row["arrival_time"], int)
                self.assertGreater(row["message_size"], 0)
            # after the first refused connection the relay counts as dead: the
            # others are deferred at once with the same reason
            self.assertEqual(len([r for r in rows if r["recipients"][0]["delay_reason"].startswith(
                "delivery temporarily suspended: connect to")]), 2)
            ids = sorted(row["queue_id"] for row in rows)
            text = inst.faxpost("queue").stdout
            self.assertRegex(text, r"^-Queue ID-")
            self.assertRegex(text, r"\n%s \s+\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d  alice@faxpost\.test\n" % ids[0])
            self.assertRegex(text, r"\n +\(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)\n {43}r0@remote\.example\n {43}x0@remote\.example\n" % sport)
            self.assertTrue(text.rstrip().endswith("Kbytes in 3 Requests."))

            # show: envelope and message
            r = inst.faxpost("queue", "show", ids[0])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("*** ENVELOPE RECORDS deferred/%s ***" % ids[0], r.stdout)
            self.assertIn("sender: alice@faxpost.test", r.stdout)
            self.assertIn("recipient: r0@remote.example", r.stdout)
            self.assertIn("*** MESSAGE CONTENTS deferred/%s ***" % ids[0], r.stdout)
            self.assertIn("body 0", r.stdout)
            self.assertEqual(inst.faxpost("queue", "show", "ZZZZZZZZZZZZ").returncode, 1)
            self.assertEqual(inst.faxpost("queue", "show", "../etc").returncode, 1)

            # hold: flagged '!' in the listing; release: back to deferred
            r = inst.faxpost("queue", "hold", ids[0])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(inst.queue_files("hold"), [ids[0]])
            self.assertIn("%s!" % ids[0], inst.faxpost("queue").stdout)
            self.assertIn('"queue_name": "hold"', inst.faxpost("queue", "-j").stdout)
            r = inst.faxpost("queue", "release", ids[0])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(inst.queue_files("hold"), [])

            # delete: gone, with its delay reasons
            r = inst.faxpost("queue", "delete", ids[1])
            self.assertEqual(r.returncode, 0, r.stderr)
            wait_until(lambda: ids[1] not in inst.queue_files("deferred") and
                       ids[1] not in inst.queue_files("active"), what="deleted")
            self.assertNotIn(ids[1], inst.queue_files("defer"))
            r = inst.faxpost("queue", "delete", ids[1])
            self.assertEqual(r.returncode, 1)
            self.assertIn("not found", r.stderr)
            self.assertEqual(inst.faxpost("queue", "delete").returncode, 2)

            # flush with a sink now listening: everything left is delivered
            spool = os.path.join(inst.dir, "sink")
            with sink(sport, spool):
                mark = inst.log_mark()
                r = inst.faxpost("queue", "flush")
                self.assertEqual(r.returncode, 0, r.stderr)
                inst.wait_log(r"%s: removed" % ids[0], since=mark, timeout=20)
                inst.wait_log(r"%s: removed" % ids[2], since=mark, timeout=20)
                wait_until(lambda: len(sink_files(spool)) == 2, what="2 messages at the sink")
            self.assertEqual(inst.faxpost("queue").stdout.strip(), "Mail queue is empty")

            # requeue: a held message goes back through incoming/ and is routed afresh
            send(port, "alice@faxpost.test", ["late@remote.example"])
            wait_until(lambda: inst.queue_files("deferred"), what="deferred")
            qid = inst.queue_files("deferred")[0]
            self.assertEqual(inst.faxpost("queue", "hold", "ALL").returncode, 0)
            self.assertEqual(inst.queue_files("hold"), [qid])
            with sink(sport, spool):
                mark = inst.log_mark()
                # the refused connection marked the relay dead for a while;
                # flush makes qmgr forget that (as postqueue -f)
                self.assertEqual(inst.faxpost("queue", "flush").returncode, 0)
                r = inst.faxpost("queue", "requeue", qid)
                self.assertEqual(r.returncode, 0, r.stderr)
                inst.wait_log(r"%s: to=<late@remote\.example>.*status=sent" % qid, since=mark)

    def test_delete_all_races_with_qmgr(self):
        """delete ALL while qmgr takes the same messages: every message ends either
        deleted or delivered, never both, never corrupt."""
        port, sport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("queue-race", services(port),
                                relayhost="[127.0.0.1]:%d" % sport,
                                mydestination="faxpost.test", smtp_tls_security_level="none")
        spool = os.path.join(inst.dir, "sink")
        with inst, sink(sport, spool):
            import smtplib
            n = 60
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
                for i in range(n):
                    s.sendmail("alice@faxpost.test", ["r@remote.example"],
                               "Subject: race %d\r\nX-Seq: %d\r\n\r\nx\r\n" % (i, i))
                    if i == n // 2:
                        r = inst.faxpost("queue", "delete", "ALL")
                        self.assertIn(r.returncode, (0, 1))
            r = inst.faxpost("queue", "delete", "ALL")
            deleted = set(re.findall(r"(\w{12}): removed", r.stdout))
            wait_until(lambda: not any(inst.queue_files(q) for q in ("incoming", "active", "deferred")),
                       what="queue empty")
            removed_by_qmgr = set(re.findall(r"qmgr\[\d+\]: (\w{12}): removed", "\n".join(inst.log_lines())))
            self.assertFalse(deleted & removed_by_qmgr)
            self.assertEqual(inst.queue_files("corrupt"), [])
            self.assertEqual(len(sink_files(spool)), len(removed_by_qmgr))


if __name__ == "__main__":
    unittest.main()
