"""test_smtpd_peer.py: smtpd's client names (smtpd_peername_lookup), as Postfix's:
the PTR name of the client address, kept only when it resolves back to the address.
A private dnsmasq on loopback answers (dns_server), so each case is exact: a name
that confirms, one that points elsewhere (warning, unknown), no PTR at all (unknown,
no warning), and the lookup switched off. The name shows in the log lines and in the
Received header of the queued message.
"""
import os
import re
import smtplib
import socket
import time
import unittest

import fixture
from test_smtp_client import dnsmasq
from test_smtpd_util import read_queue_file


def run_case(test, records, lookup="yes"):
    """Start dnsmasq with records and an instance using it; send one message.
    Returns (instance log text since start, the message's content)."""
    port, dport = fixture.free_port(), fixture.free_port()
    inst = fixture.Instance("smtpd-peer", services=["127.0.0.1:%d inet n - n - 1 smtpd" % port],
                            mynetworks="127.0.0.0/8", dns_server="127.0.0.1:%d" % dport,
                            smtpd_peername_lookup=lookup)
    with dnsmasq(dport, "--local=/arpa/", "--local=/test/", *records), inst:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.ehlo("client.example")
            s.sendmail("a@example.org", ["bob@faxpost.test"], "Subject: peer\r\n\r\nhi\r\n")
        inst.wait_log(r"disconnect from ")
        ids = inst.queue_files("incoming")
        test.assertEqual(len(ids), 1)
        q = read_queue_file(os.path.join(inst.queue, "incoming", ids[0]))
        return "\n".join(inst.log_lines()), q["content"]


class PeerName(unittest.TestCase):
    def test_confirmed_name(self):
        log, content = run_case(self, ["--host-record=client.faxpost.test,127.0.0.1"])
        self.assertIn("connect from client.faxpost.test[127.0.0.1]", log)
        self.assertRegex(log, r"client=client\.faxpost\.test\[127\.0\.0\.1\]")
        self.assertTrue(content.startswith(
            b"Received: from client.example (client.faxpost.test [127.0.0.1])"), content[:120])
        self.assertNotRegex(log, r"warning: .*(resolve|malformed)")

    def test_name_that_points_elsewhere(self):
        log, content = run_case(self, ["--ptr-record=1.0.0.127.in-addr.arpa,liar.faxpost.test",
                                       "--host-record=liar.faxpost.test,192.0.2.7"])
        self.assertIn("warning: hostname liar.faxpost.test does not resolve to address "
                      "127.0.0.1", log)
        self.assertIn("connect from unknown[127.0.0.1]", log)
        self.assertTrue(content.startswith(b"Received: from client.example (unknown [127.0.0.1])"))

    def test_no_ptr_record(self):
        log, _ = run_case(self, [])
        self.assertIn("connect from unknown[127.0.0.1]", log)
        self.assertNotRegex(log, r"warning: .*127\.0\.0\.1")

    def test_malformed_ptr_name(self):
        log, _ = run_case(self, ["--ptr-record=1.0.0.127.in-addr.arpa,bad_name.faxpost.test",
                                 "--host-record=bad_name.faxpost.test,127.0.0.1"])
        self.assertIn("connect from unknown[127.0.0.1]", log)
        self.assertRegex(log, r"warning: 127\.0\.0\.1: malformed host name in PTR record")

    def test_lookup_off(self):
        log, _ = run_case(self, ["--host-record=client.faxpost.test,127.0.0.1"], lookup="no")
        self.assertIn("connect from unknown[127.0.0.1]", log)
        self.assertNotIn("client.faxpost.test", log)


    def test_silent_dns_server_and_a_client_that_leaves(self):
        """A DNS server that never answers: the session waits for the resolver's
        time-out (a pool thread, not the loop) and goes on as unknown; a client that
        hangs up meanwhile is logged and freed, and the process serves the next one."""
        port = fixture.free_port()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))       # bound, never read: queries go unanswered
        try:
            inst = fixture.Instance("smtpd-peer", services=["127.0.0.1:%d inet n - n - 1 smtpd" % port],
                                    mynetworks="127.0.0.0/8",
                                    dns_server="127.0.0.1:%d" % silent.getsockname()[1])
            with inst:
                gone = socket.create_connection(("127.0.0.1", port), timeout=5)
                gone.close()
                t0 = time.monotonic()
                with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                    s.ehlo("client.example")
                    s.sendmail("a@example.org", ["bob@faxpost.test"], "Subject: x\r\n\r\nhi\r\n")
                waited = time.monotonic() - t0
                inst.wait_log(r"lost connection after CONNECT from unknown\[127\.0\.0\.1\]",
                              timeout=30)
                inst.wait_log(r"client=unknown\[127\.0\.0\.1\]", timeout=30)
                self.assertEqual(len(inst.queue_files("incoming")), 1)
                self.assertGreater(waited, 1.0)     # it did wait for the resolver
        finally:
            silent.close()

if __name__ == "__main__":
    unittest.main()
