"""test_pop_before_smtp.py: the smtp client logs in to a POP3 mailbox (a real Dovecot)
before relaying to the ISP's relay (smtp-sink) when smtp_pop_before_smtp = yes."""
import os
import re
import unittest

import fixture
from dovecot_peer import Dovecot
from test_qmgr import send, services, sink, sink_files, wait_until


class PopBeforeSmtp(unittest.TestCase):
    def setUp(self):
        self.port, self.sport = fixture.free_port(), fixture.free_port()
        self.inst = fixture.Instance(
            "pbs", services(self.port), relayhost="[127.0.0.1]:%d" % self.sport,
            mydestination="faxpost.test", smtp_tls_security_level="none",
            smtp_pop_before_smtp="yes", minimal_backoff_time="1s",
            maximal_backoff_time="2s", queue_run_delay="1s")
        self.dv = Dovecot(os.path.join(self.inst.dir, "dovecot"))
        self.dv.start()
        self.addCleanup(self.dv.stop)
        with open(os.path.join(self.inst.etc, "pop_mailboxes"), "w") as f:
            f.write("[isp]\nserver = 127.0.0.1\nport = %d\ntls = none\nallow_plaintext = yes\n"
                    "user = fax\ninterval = 0\ndeliver_to = fax@faxpost.test\n" % self.dv.pop3_port)

    def tearDown(self):
        self.inst.stop()

    def passwords(self, pw):
        path = os.path.join(self.inst.etc, "pop_passwords")
        with open(path, "w") as f:
            f.write("isp %s\n" % pw)
        os.chmod(path, 0o600)
        self.assertEqual(self.inst.faxpost("map", path).returncode, 0)

    def test_login_then_relay(self):
        self.passwords("secret")
        spool = os.path.join(self.inst.dir, "sink")
        with self.inst, sink(self.sport, spool):
            send(self.port, "alice@faxpost.test", ["bob@remote.example"])
            self.inst.wait_log(r"to=<bob@remote\.example>.*status=sent", timeout=30)
            wait_until(lambda: sink_files(spool), what="the relayed message")
        log = "\n".join(self.inst.log_lines())
        login = log.find("POP-before-SMTP: logged in to 127.0.0.1 (mailbox isp)")
        sent = re.search(r"to=<bob@remote\.example>.*status=sent", log)
        self.assertGreaterEqual(login, 0, "no POP login logged")
        self.assertLess(login, sent.start(), "the POP login must come before the relay")
        self.assertIn("Login: user=<fax>", self.dv.log())

    def test_failed_login_defers(self):
        self.passwords("wrong")
        spool = os.path.join(self.inst.dir, "sink")
        with self.inst, sink(self.sport, spool):
            send(self.port, "alice@faxpost.test", ["bob@remote.example"])
            m = self.inst.wait_log(r"to=<bob@remote\.example>.*dsn=4\.7\.0, status=deferred "
                                   r"\(POP-before-SMTP login failed: login failed", timeout=30)
            self.assertTrue(m)
            self.assertEqual(sink_files(spool), [], "nothing may reach the relay")


if __name__ == "__main__":
    unittest.main()
