"""SMTP client against real peers: a private Postfix instance as relay target
(plain, and STARTTLS + AUTH with Dovecot's SASL), dnsmasq MX records for direct
delivery with a dead first MX, and hostile hand-written servers (security.md 2.2, 2.9).

PostfixPeer is also used by bench/relay.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

import fixture
from test_qmgr import send, services, wait_until, maildir_files, sink, sink_files

POSTFIX_MASTER = """\
{port} inet n - n - - smtpd {smtpd_opts}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixPeer:
    """A private Postfix 3.7 instance (root starts it; it runs as user postfix).

    port: its smtpd (127.0.0.1). relayhost: where it sends mail ("" = discard every
    message: the log says status=sent for each). tls: dict from fixture.make_ca()
    (STARTTLS offered). sasl_path: a Dovecot auth socket (AUTH required on port).
    """

    def __init__(self, workdir, port, relayhost="", tls=None, sasl_path=None, params=None,
                 wrapper=False):
        self.dir = os.path.abspath(workdir)
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.logdir = os.path.join(self.dir, "log")
        self.log_path = os.path.join(self.logdir, "maillog")
        for d in (self.etc, self.spool, self.data, self.logdir):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.data, "postfix", "postfix")
        shutil.chown(self.logdir, "postfix", "postfix")
        self.port = port
        p = {
            "compatibility_level": "3.6",
            "config_directory": self.etc,
            "queue_directory": self.spool,
            "data_directory": self.data,
            "daemon_directory": "/usr/lib/postfix/sbin",
            "command_directory": "/usr/sbin",
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "relay.test",
            "mydomain": "test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "maillog_file": self.log_path,
            "maillog_file_prefixes": self.logdir,
            "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
            "biff": "no",
        }
        if relayhost:
            p["relayhost"] = relayhost
            p["smtp_tls_security_level"] = "none"
        else:
            p["default_transport"] = p["relay_transport"] = p["local_transport"] = "discard:relay-target"
        smtpd_opts = ""
        if tls:
            p.update({"smtpd_tls_cert_file": tls["cert"], "smtpd_tls_key_file": tls["key"],
                      "smtpd_tls_security_level": "may"})
        if sasl_path:
            p.update({"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot",
                      "smtpd_sasl_path": sasl_path,
                      "smtpd_tls_auth_only": "yes"})
            # only authenticated clients may relay on this port
            smtpd_opts = "-o mynetworks=127.0.0.2/32"
        if wrapper:     # SMTPS: TLS from the first byte (port 465 style)
            smtpd_opts += " -o smtpd_tls_wrappermode=yes"
        p.update(params or {})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in p.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER.format(port="127.0.0.1:%d" % port, smtpd_opts=smtpd_opts))

    def start(self, timeout=20):
        r = fixture.run(["postfix", "-c", self.etc, "start"], timeout=60)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: %s %s\n%s" % (r.stdout, r.stderr, self.log()))
        fixture.wait_listen(self.port, timeout=timeout)
        return self

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        pid = self.master_pid()
        if pid:
            fixture._stop_pid(pid, None, 10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sent(self):
        return re.findall(r"to=<([^>]+)>.*status=sent", self.log())

    def wait_sent(self, n, timeout=30):
        return wait_until(lambda: len(self.sent()) >= n and self.sent(), timeout,
                          "%d deliveries logged by the Postfix peer" % n)


def postfix_available():
    return shutil.which("postfix") is not None and os.geteuid() == 0


class RelayToPostfix(unittest.TestCase):
    @unittest.skipUnless(postfix_available(), "needs postfix and root")
    def test_relay_through_private_postfix(self):
        port, pport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("smtpc-postfix", services(port),
                                relayhost="[127.0.0.1]:%d" % pport,
                                mydestination="faxpost.test", smtp_tls_security_level="none")
        with PostfixPeer(os.path.join(inst.dir, "postfix"), pport) as pf, inst:
            rcpts = ["r%d@remote.example" % i for i in range(5)]
            for i in range(3):
                send(port, "alice@faxpost.test", rcpts[:1 + i * 2],
                     body="Subject: m%d\r\n\r\nline\r\n.dot line\r\n" % i)
            got = pf.wait_sent(1 + 3 + 5)
            self.assertEqual(sorted(got), sorted(rcpts[:1] + rcpts[:3] + rcpts[:5]))
            for i in range(3):
                inst.wait_log(r"to=<r%d@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent \(250 2\.0\.0 Ok: queued as" % (i, pport))
            wait_until(lambda: not any(inst.queue_files(s) for s in ("incoming", "active", "deferred")),
                       what="our queue empty")


class RelayTlsAuth(unittest.TestCase):
    """Relay through a private Postfix that requires STARTTLS and AUTH (Dovecot SASL);
    our client verifies its certificate against the test CA."""

    @unittest.skipUnless(postfix_available() and shutil.which("dovecot"), "needs postfix, dovecot, root")
    def test_starttls_auth_verify(self):
        from dovecot_peer import Dovecot
        port, pport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("smtpc-tlsauth", services(port), mydestination="faxpost.test",
                                minimal_backoff_time="1h", maximal_backoff_time="1h")
        ca = fixture.make_ca(os.path.join(inst.dir, "ca"))
        work = os.path.join(inst.dir, "dovecot")
        dv = Dovecot(work, users={"relayuser": "s3cret"})
        os.makedirs(os.path.join(inst.dir, "sasl"))
        os.chmod(os.path.join(inst.dir, "sasl"), 0o755)
        auth_sock = os.path.join(inst.dir, "sasl", "auth")
        with open(dv.conf, "a") as f:
            f.write("service auth {\n  unix_listener %s {\n    mode = 0666\n  }\n}\n" % auth_sock)
        table = os.path.join(inst.etc, "sasl_passwd")
        with open(table, "w") as f:
            f.write("[127.0.0.1]:%d relayuser:s3cret\n" % pport)
        self.assertEqual(inst.faxpost("map", table).returncode, 0)
        inst.write_main_cf(relayhost="[127.0.0.1]:%d" % pport, smtp_tls_security_level="verify",
                           smtp_tls_CAfile=ca["ca_cert"], smtp_sasl_password_maps=table)
        pf = PostfixPeer(os.path.join(inst.dir, "postfix"), pport, tls=ca, sasl_path=auth_sock)
        with dv:
            wait_until(lambda: os.path.exists(auth_sock), what="dovecot auth socket")
            with pf, inst:
                send(port, "alice@faxpost.test", ["tls1@remote.example", "tls2@remote.example"])
                got = pf.wait_sent(2)
                self.assertEqual(sorted(got), ["tls1@remote.example", "tls2@remote.example"])
                inst.wait_log(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: TLSv1\.[23]" % pport)
                inst.wait_log(r"to=<tls1@remote\.example>.*status=sent")
                self.assertRegex(pf.log(), r"sasl_method=PLAIN, sasl_username=relayuser")
                # a wrong password: deferred, nothing relayed
                with open(table, "w") as f:
                    f.write("[127.0.0.1]:%d relayuser:wrong\n" % pport)
                self.assertEqual(inst.faxpost("map", table).returncode, 0)
                # the kept connection (authenticated) expires after 2s; a newer .db is
                # noticed at the next lookup
                time.sleep(2.5)
                mark = inst.log_mark()
                send(port, "alice@faxpost.test", ["tls3@remote.example"])
                inst.wait_log(r"to=<tls3@remote\.example>.*dsn=4\.7\.0, status=deferred \(SASL authentication failed", since=mark)
                self.assertNotIn("tls3@remote.example", pf.sent())


class RelayImplicitTls(unittest.TestCase):
    @unittest.skipUnless(postfix_available(), "needs postfix and root")
    def test_smtps_wrapper_mode_verify(self):
        port, pport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("smtpc-smtps", services(port), mydestination="faxpost.test")
        ca = fixture.make_ca(os.path.join(inst.dir, "ca"))
        inst.write_main_cf(relayhost="[127.0.0.1]:%d" % pport, smtp_tls_wrappermode="yes",
                           smtp_tls_security_level="verify", smtp_tls_CAfile=ca["ca_cert"])
        with PostfixPeer(os.path.join(inst.dir, "postfix"), pport, tls=ca, wrapper=True) as pf, inst:
            send(port, "alice@faxpost.test", ["smtps@remote.example"])
            self.assertEqual(pf.wait_sent(1), ["smtps@remote.example"])
            inst.wait_log(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d" % pport)


class ConnegClient(unittest.TestCase):
    """Our client asks CONNEG of a next hop that offers it (a second faxpost instance
    whose smtpd answers for FAX= recipients) and reads both reply styles; under
    CONPERM it passes CONPERM on, and refuses (5.6.3) a hop offering neither."""

    def relay_to_b(self, style):
        port, bport = fixture.free_port(), fixture.free_port()
        b = fixture.Instance("conneg-b", ["%d inet n - n - 1 smtpd" % bport],
                             mydestination="b.test", fax_domains="fax.b.test",
                             smtpd_conneg_reply_style=style)
        a = fixture.Instance("conneg-a", services(port), mydestination="faxpost.test",
                             relayhost="[127.0.0.1]:%d" % bport, smtp_tls_security_level="none")
        with b, a:
            send(port, "alice@faxpost.test", ["FAX=+4930123456@fax.b.test"],
                 mail_options=["CONPERM"])
            a.wait_log(r"to=<FAX=\+4930123456@fax\.b\.test>.*status=sent")
            m = a.wait_log(r"to=<FAX=\+4930123456@fax\.b\.test>, relay=\S+, conneg=(.*)$")
            ids = wait_until(lambda: b.queue_files("incoming"), what="message at B")
            shown = b.faxpost("queue", "show", ids[0]).stdout
            self.assertIn("named_attribute: conperm=yes", shown)   # CONPERM passed on
            return m.group(1)

    def test_conneg_both_reply_styles(self):
        rfc = self.relay_to_b("rfc4141")
        draft = self.relay_to_b("draft")
        self.assertIn("image-coding", rfc)
        self.assertTrue(rfc.startswith("(&"), rfc)
        squash = lambda t: re.sub(r"\s+", "", t)
        self.assertEqual(squash(rfc), squash(draft))

    @unittest.skipUnless(postfix_available(), "needs postfix and root")
    def test_conperm_to_hop_without_conperm_or_conneg_bounces_563(self):
        port, pport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("conneg-pf", services(port), mydestination="faxpost.test",
                                relayhost="[127.0.0.1]:%d" % pport, smtp_tls_security_level="none")
        with PostfixPeer(os.path.join(inst.dir, "postfix"), pport) as pf, inst:
            send(port, "alice@faxpost.test", ["FAX=+4930999@ifax.example"], mail_options=["CONPERM"])
            inst.wait_log(r"to=<FAX=\+4930999@ifax\.example>.*dsn=5\.6\.3, status=bounced \(Conversion required but not supported")
            dsn = wait_until(lambda: maildir_files(inst, "alice"), what="5.6.3 DSN")
            self.assertIn(b"Status: 5.6.3", open(dsn[0], "rb").read())
            # without CONPERM the same hop simply gets the message
            send(port, "alice@faxpost.test", ["FAX=+4930999@ifax.example"])
            self.assertEqual(pf.wait_sent(1), ["FAX=+4930999@ifax.example"])


class ConnegConvert(unittest.TestCase):
    """RFC 4141 conversion on the client side: the next hop says by CONNEG that the
    fax recipient takes MH only; the message (CONPERM, Content-Convert: ANY) carries
    an MMR TIFF, so our smtp has codecd convert it and sends the converted copy with
    new Content-Features and a Content-Previous; Content-Convert is kept."""

    @unittest.skipUnless(shutil.which("tiffinfo"), "needs tiffinfo")
    def test_convert_for_recipient_capabilities(self):
        import base64
        import email
        port, bport = fixture.free_port(), fixture.free_port()
        caps = ("(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) "
                "(dpi=204) (dpi-xyratio=[204/98,204/196]) (image-coding=MH) (paper-size=A4))")
        b = fixture.Instance("convert-b", ["%d inet n - n - 1 smtpd" % bport],
                             mydestination="b.test", fax_domains="fax.b.test",
                             fax_capabilities=caps)
        a = fixture.Instance("convert-a", services(port, ["codecd unix - n n - 2 codecd"]),
                             mydestination="faxpost.test", relayhost="[127.0.0.1]:%d" % bport,
                             smtp_tls_security_level="none")
        doc = os.path.join(a.dir, "doc.tif")
        r = a.faxpost("convert", os.path.join(os.path.dirname(fixture.SRC), "shared", "corpus", "src", "email.txt")
                      if False else "-", "--type", "text/plain",
                      "--to", "(& (image-coding=MMR) (dpi=204) (dpi-xyratio=204/196))", "-o", doc,
                      input="Hello fax\nsecond line\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(doc, "rb") as f:
            tiff = f.read()
        b64 = base64.encodebytes(tiff).decode().replace("\n", "\r\n")
        features = ("(& (image-file-structure=TIFF-limited) (MRC-mode=0) (color=Binary) "
                    "(dpi=204) (dpi-xyratio=204/196) (image-coding=MMR))")
        msg = ("From: alice@faxpost.test\r\nTo: FAX=+4930123@fax.b.test\r\nSubject: conv\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BND\"\r\n\r\n"
               "--BND\r\nContent-Type: text/plain\r\n\r\ncover text\r\n"
               "--BND\r\nContent-Type: image/tiff; application=faxbw\r\n"
               "Content-Transfer-Encoding: base64\r\nContent-Features: %s\r\n"
               "Content-Convert: ANY\r\n\r\n%s--BND--\r\n" % (features, b64))
        with b, a:
            send(port, "alice@faxpost.test", ["FAX=+4930123@fax.b.test"], body=msg,
                 mail_options=["CONPERM"])
            a.wait_log(r"converted for <FAX=\+4930123@fax\.b\.test> \(\d+ bytes\)")
            a.wait_log(r"to=<FAX=\+4930123@fax\.b\.test>.*status=sent")
            ids = wait_until(lambda: b.queue_files("incoming"), what="message at B")
            shown = b.faxpost("queue", "show", ids[0]).stdout
            body = shown.split("*** MESSAGE CONTENTS", 1)[1].split("\n", 1)[1]
            body = body.rsplit("*** MESSAGE FILE END", 1)[0]
            m = email.message_from_string(body)
            parts = [p for p in m.walk() if p.get_content_type() == "image/tiff"]
            self.assertEqual(len(parts), 1)
            part = parts[0]
            self.assertEqual(part["Content-Convert"], "ANY")
            self.assertIn("image-coding=MH)", part["Content-Features"])
            self.assertIn("By faxpost.test;", part["Content-Previous"])
            self.assertIn("image-coding=MMR", part["Content-Previous"])
            self.assertIn("cover text", body)
            out = os.path.join(a.dir, "converted.tif")
            with open(out, "wb") as f:
                f.write(part.get_payload(decode=True))
            info = fixture.run(["tiffinfo", out]).stdout
            self.assertIn("CCITT Group 3", info)
            self.assertNotIn("2-D encoding", info)


class ConnegGroups(unittest.TestCase):
    @unittest.skipUnless(shutil.which("tiffinfo"), "needs tiffinfo")
    def test_recipients_with_different_capabilities_get_separate_transactions(self):
        """r1 and r3 take MH only, r2 takes MMR: r2 gets the original, r1 and r3 one
        converted copy, in two transactions (RFC 4141 3.1)."""
        import base64
        import email
        port, bport = fixture.free_port(), fixture.free_port()
        mh = ("(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (dpi=204) "
              "(dpi-xyratio=[204/98,204/196]) (image-coding=MH) (paper-size=A4))")
        mmr = ("(& (image-file-structure=[TIFF-minimal,TIFF-limited]) (MRC-mode=0) (color=Binary) "
               "(dpi=204) (dpi-xyratio=[204/98,204/196]) (image-coding=[MH,MR,MMR]) (paper-size=A4))")
        b = fixture.Instance("groups-b", ["%d inet n - n - 1 smtpd" % bport], mydestination="b.test")
        caps = os.path.join(b.etc, "caps")
        with open(caps, "w") as f:
            f.write("r1@b.test %s\nr2@b.test %s\nr3@b.test %s\n" % (mh, mmr, mh))
        self.assertEqual(b.faxpost("map", caps).returncode, 0)
        b.write_main_cf(smtpd_capabilities_maps=caps)
        a = fixture.Instance("groups-a", services(port, ["codecd unix - n n - 2 codecd"]),
                             mydestination="faxpost.test", relayhost="[127.0.0.1]:%d" % bport,
                             smtp_tls_security_level="none")
        doc = os.path.join(a.dir, "doc.tif")
        r = a.faxpost("convert", "-", "--type", "text/plain",
                      "--to", "(& (image-coding=MMR) (dpi=204) (dpi-xyratio=204/196))", "-o", doc,
                      input="Hello\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        b64 = base64.encodebytes(open(doc, "rb").read()).decode().replace("\n", "\r\n")
        msg = ("Subject: groups\r\nMIME-Version: 1.0\r\nContent-Type: image/tiff\r\n"
               "Content-Transfer-Encoding: base64\r\nContent-Features: (& (image-file-structure=TIFF-limited) "
               "(MRC-mode=0) (color=Binary) (dpi=204) (dpi-xyratio=204/196) (image-coding=MMR))\r\n"
               "Content-Convert: ANY\r\n\r\n" + b64)
        with b, a:
            send(port, "alice@faxpost.test", ["r1@b.test", "r2@b.test", "r3@b.test"], body=msg)
            for r in ("r1", "r2", "r3"):
                a.wait_log(r"to=<%s@b\.test>.*status=sent" % r)
            a.wait_log(r"converted for <r1@b\.test>")
            ids = wait_until(lambda: len(b.queue_files("incoming")) == 2 and b.queue_files("incoming"),
                             what="two messages at B")
            got = {}
            for qid in ids:
                shown = b.faxpost("queue", "show", qid).stdout
                rcpts = tuple(sorted(re.findall(r"^recipient: (\S+)$", shown, re.M)))
                body = shown.split("*** MESSAGE CONTENTS", 1)[1].split("\n", 1)[1]
                got[rcpts] = email.message_from_string(body.rsplit("*** MESSAGE FILE END", 1)[0])
            self.assertEqual(sorted(got), [("r1@b.test", "r3@b.test"), ("r2@b.test",)])
            self.assertIn("image-coding=MH)", got[("r1@b.test", "r3@b.test")]["Content-Features"])
            self.assertIsNotNone(got[("r1@b.test", "r3@b.test")]["Content-Previous"])
            self.assertIn("image-coding=MMR)", got[("r2@b.test",)]["Content-Features"])
            self.assertIsNone(got[("r2@b.test",)]["Content-Previous"])


def dnsmasq(port, *records):
    """dnsmasq on 127.0.0.1:port (UDP+TCP) answering only from its command line."""
    p = fixture.Proc(["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--no-poll",
                      "--pid-file=", "--user=nobody", "--bind-interfaces",
                      "--listen-address=127.0.0.1", "-p", str(port), "--log-facility=-"]
                     + list(records), name="dnsmasq")
    fixture.wait_listen(port)
    return p


class DirectMX(unittest.TestCase):
    def test_mx_order_dead_first_mx_implicit_mx_nxdomain_loop(self):
        port, sport, dport = fixture.free_port(), fixture.free_port(), fixture.free_port()
        records = [
            # mx.example: MX 10 on ::1 (nothing listens there), MX 20 on 127.0.0.1
            "--mx-host=mx.example,mx1.mx.example,10",
            "--mx-host=mx.example,mx2.mx.example,20",
            "--host-record=mx1.mx.example,::1",
            "--host-record=mx2.mx.example,127.0.0.1",
            # dead.example: only the dead MX
            "--mx-host=dead.example,mx1.mx.example,10",
            # noext.example: no MX, an A record (implicit MX)
            "--host-record=noext.example,127.0.0.1",
            # loop.example: its best MX is this host (myhostname faxpost.test)
            "--mx-host=loop.example,faxpost.test,10",
            "--mx-host=loop.example,mx2.mx.example,20",
            "--host-record=faxpost.test,127.0.0.1",
            # everything else under example is answered here: NXDOMAIN / no data
            "--local=/example/",
        ]
        inst = fixture.Instance("smtpc-mx", services(port), mydestination="faxpost.test",
                                dns_server="127.0.0.1:%d" % dport, smtp_tcp_port=sport,
                                smtp_tls_security_level="none",
                                minimal_backoff_time="1h", maximal_backoff_time="1h")
        spool = os.path.join(inst.dir, "sink")
        with dnsmasq(dport, *records), sink(sport, spool), inst:
            send(port, "alice@faxpost.test", ["bob@mx.example"])
            inst.wait_log(r"to=<bob@mx\.example>, relay=mx2\.mx\.example\[127\.0\.0\.1\]:%d.*status=sent" % sport)
            send(port, "alice@faxpost.test", ["carl@noext.example"])
            inst.wait_log(r"to=<carl@noext\.example>, relay=noext\.example\[127\.0\.0\.1\]:%d.*status=sent" % sport)
            send(port, "alice@faxpost.test", ["dora@dead.example"])
            inst.wait_log(r"to=<dora@dead\.example>.*dsn=4\.4\.1, status=deferred \(connect to mx1\.mx\.example\[::1\]:%d: Connection refused\)" % sport)
            send(port, "alice@faxpost.test", ["eve@nosuch.example"])
            inst.wait_log(r"to=<eve@nosuch\.example>.*dsn=5\.1\.2, status=bounced \(Host or domain name not found")
            send(port, "alice@faxpost.test", ["fred@loop.example"])
            inst.wait_log(r"to=<fred@loop\.example>.*dsn=5\.4\.6, status=bounced \(mail for loop\.example loops back to myself\)")
            got = wait_until(lambda: len(sink_files(spool)) == 2 and sink_files(spool), what="2 at the sink")
            self.assertTrue(any(b"bob@mx.example" in g for g in got))


if __name__ == "__main__":
    unittest.main()
