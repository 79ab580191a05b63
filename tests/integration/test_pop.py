"""test_pop.py: popd-client against a real Dovecot POP3 server (and hostile scripts).

Each test makes an instance with only the popd-client service (master.cf "pop"),
a private Dovecot with test mailboxes, and checks what lands in the queue.
"""
import os
import re
import signal
import socket
import ssl
import threading
import time
import unittest

import fixture
from dovecot_peer import Dovecot

QUEUE_STATES = ("incoming", "active", "deferred", "hold", "corrupt")


def make_message(i, size=0, extra=b""):
    body = b"".join(b"line %d of message %d\r\n" % (n, i) for n in range(max(1, size // 24)))
    return (b"Return-Path: <sender%d@example.org>\r\n"
            b"From: Sender %d <sender%d@example.org>\r\n"
            b"To: fax@example.org\r\n"
            b"Subject: test %d\r\n"
            b"Message-ID: <msg-%d@faxpost.test>\r\n\r\n" % (i, i, i, i, i)) + extra + body


class PopCase(unittest.TestCase):
    """An instance with popd-client and a Dovecot; helpers to configure mailboxes."""
    wakeup = 0
    tls = False
    apop = False

    def setUp(self):
        self.inst = fixture.Instance(
            self.id().split(".")[-1],
            services=["pop unix - - n %s 1 popd-client" % (self.wakeup or "-")],
            params={"pop_timeout": "5s", "service_throttle_time": "1s"})
        self.ca = fixture.make_ca(os.path.join(self.inst.dir, "ca")) if self.tls else None
        self.dv = Dovecot(os.path.join(self.inst.dir, "dovecot"),
                          users={"fax": "secret", "other": "pw2"},
                          tls=self.ca, apop=self.apop)
        self.dv.start()
        self.addCleanup(self.dv.stop)
        self.set_passwords({"office": "secret"})

    def tearDown(self):
        self.inst.stop()

    def set_passwords(self, table, mode=0o600):
        path = os.path.join(self.inst.etc, "pop_passwords")
        with open(path, "w") as f:
            for k, v in table.items():
                f.write("%s %s\n" % (k, v))
        os.chmod(path, mode)
        r = self.inst.faxpost("map", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        if os.path.exists(path + ".db"):
            os.chmod(path + ".db", mode)

    def set_mailbox(self, name="office", **kw):
        settings = dict(server="127.0.0.1", port=self.dv.pop3_port, tls="none",
                        allow_plaintext="yes", user="fax", interval=0,
                        deliver_to="fax-print@faxpost.test")
        settings.update(kw)
        path = os.path.join(self.inst.etc, "pop_mailboxes")
        text = "[%s]\n" % name + "".join("%s = %s\n" % kv for kv in settings.items())
        mode = "a" if getattr(self, "_boxes_written", False) and name != "office" else "w"
        with open(path, mode) as f:
            f.write(text)
        self._boxes_written = True

    def queued(self):
        """Queue files (all states) as {name: bytes}."""
        out = {}
        for st in QUEUE_STATES:
            d = os.path.join(self.inst.queue, st)
            for n in self.inst.queue_files(st):
                with open(os.path.join(d, n), "rb") as f:
                    out[n] = f.read()
        return out

    def message_ids(self):
        ids = []
        for data in self.queued().values():
            ids += re.findall(rb"Message-ID: <(msg-\d+)@", data)
        return ids

    def receive(self, *args, timeout=120):
        return self.inst.faxpost("receive", *args, timeout=timeout)


class TestPopPlain(PopCase):
    def test_fetch_and_delete(self):
        for i in range(3):
            self.dv.deliver("fax", make_message(i, 200, extra=b".dotline\r\n"))
        self.set_mailbox()
        self.inst.start()
        r = self.receive("office")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("office: 3 fetched, 0 skipped, 3 deleted", r.stdout)
        self.assertEqual(sorted(self.message_ids()), [b"msg-0", b"msg-1", b"msg-2"])
        self.assertEqual(self.dv.count("fax"), 0, "DELE + QUIT must empty the mailbox")
        for data in self.queued().values():
            self.assertIn(b"fax-print@faxpost.test", data)     # envelope recipient
            self.assertIn(b"Received: from 127.0.0.1 by faxpost.test", data)
            self.assertIn(b"\r\n.dotline\r\n", data)            # dot-unstuffed
            self.assertNotIn(b"\r\n..dotline", data)
        self.inst.wait_log(r"pop=office, uidl=\S+, size=\d+, to=<fax-print@faxpost.test>")
        # nothing new: a second receive fetches nothing
        r = self.receive("office")
        self.assertEqual(r.returncode, 0)
        self.assertIn("office: 0 fetched", r.stdout)
        self.assertEqual(len(self.queued()), 3)

    def test_keep_on_server_uidl_tracking(self):
        for i in range(2):
            self.dv.deliver("fax", make_message(i))
        self.set_mailbox(keep="yes")
        self.inst.start()
        self.assertEqual(self.receive().returncode, 0)
        self.assertEqual(self.dv.count("fax"), 2, "keep = yes leaves mail on the server")
        self.assertEqual(len(self.queued()), 2)
        self.dv.deliver("fax", make_message(7))
        r = self.receive()
        self.assertIn("office: 1 fetched", r.stdout)
        self.assertEqual(sorted(self.message_ids()), [b"msg-0", b"msg-1", b"msg-7"])

    def test_size_limit_leaves_big_message(self):
        self.dv.deliver("fax", make_message(1, 100))
        self.dv.deliver("fax", make_message(2, 200000))
        self.set_mailbox(size_limit="50k")
        self.inst.start()
        r = self.receive()
        self.assertIn("office: 1 fetched, 1 skipped, 1 deleted", r.stdout)
        self.assertEqual(self.message_ids(), [b"msg-1"])
        self.assertEqual(self.dv.count("fax"), 1)
        self.inst.wait_log(r"over the limit of 51200: left on the server")

    def test_wrong_password_fails_cleanly(self):
        self.dv.deliver("fax", make_message(1))
        self.set_passwords({"office": "wrong"})
        self.set_mailbox()
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("login failed", r.stdout + r.stderr)
        self.assertEqual(self.queued(), {})
        self.assertEqual(self.dv.count("fax"), 1)

    def test_world_readable_passwords_refused(self):
        self.dv.deliver("fax", make_message(1))
        self.set_passwords({"office": "secret"}, mode=0o644)
        self.set_mailbox()
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.inst.wait_log(r"world-readable: refusing")
        self.assertEqual(self.queued(), {})

    def test_plaintext_refused_without_permission(self):
        self.dv.deliver("fax", make_message(1))
        self.set_mailbox(allow_plaintext="no")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("without TLS", r.stdout + r.stderr)
        self.assertEqual(self.dv.count("fax"), 1)

    def test_unknown_mailbox_and_usage(self):
        self.set_mailbox()
        self.inst.start()
        r = self.receive("nosuch")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such mailbox", r.stderr)
        self.assertEqual(self.inst.faxpost("receive", "-x").returncode, 2)
        self.assertEqual(self.inst.faxpost("receive", "--help").returncode, 0)

    def test_bad_mailbox_file_names_line(self):
        path = os.path.join(self.inst.etc, "pop_mailboxes")
        with open(path, "w") as f:
            f.write("[office]\nserver = 127.0.0.1\nport = 99999\n")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("pop_mailboxes:3: bad port", r.stderr)


class TestPopTls(PopCase):
    tls = True

    def test_stls_verified(self):
        self.dv.deliver("fax", make_message(1))
        self.set_mailbox(tls="stls", verify="verify", allow_plaintext="no")
        self.inst.write_main_cf(pop_tls_ca_file=self.ca["ca_cert"])
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.message_ids(), [b"msg-1"])
        self.inst.wait_log(r"pop office: server=127.0.0.1:\d+, tls=TLSv1\.[23]")

    def test_pop3s_verified(self):
        self.dv.deliver("fax", make_message(2))
        self.set_mailbox(tls="pop3s", port=self.dv.pop3s_port, verify="verify",
                         allow_plaintext="no")
        self.inst.write_main_cf(pop_tls_ca_file=self.ca["ca_cert"])
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.message_ids(), [b"msg-2"])

    def test_verify_fails_with_unknown_ca(self):
        self.dv.deliver("fax", make_message(3))
        self.set_mailbox(tls="pop3s", port=self.dv.pop3s_port, verify="verify")
        self.inst.start()     # no pop_tls_ca_file: the test CA is unknown
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("TLS handshake failed", r.stdout + r.stderr)
        self.assertEqual(self.queued(), {})
        self.assertEqual(self.dv.count("fax"), 1)


class TestPopApop(PopCase):
    apop = True

    def test_apop_login(self):
        self.dv.deliver("fax", make_message(4))
        self.set_mailbox(apop="yes")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.dv.log()[-2000:])
        self.assertEqual(self.message_ids(), [b"msg-4"])
        self.assertIn("method=APOP", self.dv.log())


class TestPopPeriodic(PopCase):
    wakeup = 1

    def test_polls_on_its_own(self):
        self.dv.deliver("fax", make_message(5))
        self.set_mailbox(interval="1s")
        self.inst.start()
        deadline = time.time() + 20
        while time.time() < deadline and not self.message_ids():
            time.sleep(0.2)
        self.assertEqual(self.message_ids(), [b"msg-5"])
        self.dv.deliver("fax", make_message(6))
        deadline = time.time() + 20
        while time.time() < deadline and len(self.message_ids()) < 2:
            time.sleep(0.2)
        self.assertEqual(sorted(self.message_ids()), [b"msg-5", b"msg-6"])


class TestPopCrash(PopCase):
    def test_thousand_messages_kill9_then_rerun(self):
        """kill -9 of popd-client mid-session, then rerun: every message queued once
        (a duplicate is possible only in the window between the queue commit and the
        UIDL record, and would be counted here)."""
        n = 1000
        for i in range(n):
            self.dv.deliver("fax", make_message(i, 300))
        self.set_mailbox()
        self.inst.start()
        recv = fixture.Proc([os.path.join(fixture.BUILD, "bin", "faxpost"), "-c",
                             self.inst.etc, "receive", "-q"], name="receive")
        deadline = time.time() + 60
        while time.time() < deadline and len(self.queued()) < 150:
            time.sleep(0.05)
        pids = [p for p in self.inst.children() if b"popd-client" in
                open("/proc/%d/cmdline" % p, "rb").read()]
        self.assertTrue(pids, "popd-client not found")
        for p in pids:
            os.kill(p, signal.SIGKILL)
        recv.wait(20)
        recv.stop()
        first = len(self.queued())
        self.assertGreater(first, 0)
        self.assertLess(first, n, "the kill came too late to test anything")
        # master restarts popd-client; the rerun fetches the rest
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.receive("-q", timeout=180)
            if r.returncode == 0:
                break
            time.sleep(0.5)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ids = self.message_ids()
        dups = len(ids) - len(set(ids))
        self.assertEqual(len(set(ids)), n, "every message must be in the queue")
        self.assertLessEqual(dups, 1, "at most the one message in the commit window")
        self.assertEqual(self.dv.count("fax"), 0)
        print("  pop crash test: %d queued before kill -9, %d duplicates" % (first, dups))


class TestPopRecovery(PopCase):
    def test_crash_between_record_and_publish(self):
        """popd-client dies after recording a batch's UIDLs but before publishing its
        queue files: the restarted daemon publishes them from tmp/, and the next poll
        only deletes the messages - nothing lost, nothing fetched twice."""
        for i in range(10):
            self.dv.deliver("fax", make_message(i))
        self.set_mailbox()
        os.environ["FAXPOST_CRASHPOINT"] = "pop_after_record"
        try:
            self.inst.start()
        finally:
            del os.environ["FAXPOST_CRASHPOINT"]
        r = self.receive()
        self.assertEqual(r.returncode, 1, "the crash must end the receive with an error")
        self.inst.wait_log(r"recovered a fetched message left unpublished", timeout=20)
        deadline = time.time() + 20
        while time.time() < deadline and len(self.message_ids()) < 10:
            time.sleep(0.2)
        self.assertEqual(sorted(self.message_ids()), sorted(b"msg-%d" % i for i in range(10)))
        self.assertEqual(self.inst.queue_files("tmp"), [], "every tmp file published")
        deadline = time.time() + 20
        while time.time() < deadline:
            r = self.receive()
            if r.returncode == 0:
                break
            time.sleep(0.5)
        self.assertIn("office: 0 fetched, 0 skipped, 10 deleted", r.stdout)
        self.assertEqual(self.dv.count("fax"), 0)
        self.assertEqual(len(self.message_ids()), 10)


class TestProvider(unittest.TestCase):
    def test_provider_presets(self):
        inst = fixture.Instance("provider")
        try:
            for f in ("providers",):
                with open(os.path.join(fixture.SRC, "etc", f)) as src, \
                        open(os.path.join(inst.etc, f), "w") as dst:
                    dst.write(src.read())
            r = inst.faxpost("provider")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"gmx\s+GMX\s+pop pop\.gmx\.net:995 pop3s")
            r = inst.faxpost("provider", "gmx", "office", "user=fax@gmx.example",
                             "deliver_to=fax@faxpost.test", "interval=10m", "--smtp")
            self.assertEqual(r.returncode, 0, r.stderr)
            text = open(os.path.join(inst.etc, "pop_mailboxes")).read()
            self.assertIn("[office]\nprovider = gmx\nuser = fax@gmx.example\n", text)
            main = open(os.path.join(inst.etc, "main.cf")).read()
            self.assertRegex(main, r"relayhost\s*=\s*\[mail\.gmx\.net\]:587")
            r = inst.faxpost("provider", "gmx", "office", "port=99999")
            self.assertEqual(r.returncode, 1)
            self.assertIn("bad port", r.stderr)
            r = inst.faxpost("provider", "nosuch")
            self.assertEqual(r.returncode, 1)
        finally:
            inst.stop()


if __name__ == "__main__":
    unittest.main()
