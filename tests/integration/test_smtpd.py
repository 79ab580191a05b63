"""test_smtpd.py: smtpd against real clients (swaks, smtplib, openssl s_client) and the
hostile inputs of shared/reference/security.md (2.1-2.8, 5.6), with the queue checked
after each. The main instance runs under master with a STARTTLS port and an implicit-
TLS (submissions) port; variant settings run a stand-alone smtpd (-S ... -o ...).
The test client (127.0.0.1) is outside mynetworks (127.0.0.2/32) unless said.
"""
import atexit
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
import unittest

import fixture
from test_smtpd_util import Raw, client_context, crypt_hash, read_queue_file

FAX_RCPT = "FAX=+4930123456@faxpost.test"


def loopback_client():
    """How smtpd names a client on 127.0.0.1 (smtpd_peername_lookup = yes): the
    system's name for it when that name resolves back (Debian's /etc/hosts:
    localhost), else unknown - as a regex of name[addr]."""
    try:
        name = socket.getnameinfo(("127.0.0.1", 0), socket.NI_NAMEREQD)[0]
        if "127.0.0.1" in {a[4][0] for a in socket.getaddrinfo(name, None)}:
            return re.escape(name) + r"\[127\.0\.0\.1\]"
    except OSError:
        pass
    return r"unknown\[127\.0\.0\.1\]"


CLIENT = loopback_client()


def write_table(inst, name, lines):
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = inst.faxpost("map", path)
    if r.returncode != 0:
        raise RuntimeError("faxpost map %s: %s %s" % (path, r.stdout, r.stderr))
    return path


def new_files(inst, before):
    return [f for f in inst.queue_files("incoming") if f not in before]


def standalone(params, *args):
    inst = fixture.Instance("smtpd", params=params)
    p = inst.standalone("smtpd", *args)
    return inst, p


class SmtpdMain(unittest.TestCase):
    started = False

    def setUp(self):
        # run.py runs test by test (no setUpClass): one instance, made on first use,
        # stopped at exit by pid (atexit).
        if not SmtpdMain.started:
            SmtpdMain.started = True
            SmtpdMain.setup_instance()

    @classmethod
    def setup_instance(cls):
        cls.port = fixture.free_port()
        cls.sport = fixture.free_port()
        cls.inst = fixture.Instance(
            "smtpd-main",
            services=["127.0.0.1:%d inet n - n - 2 smtpd" % cls.port,
                      "127.0.0.1:%d inet n - n - 1 smtpd -o smtpd_tls_wrappermode=yes"
                      % cls.sport],
            mynetworks="127.0.0.2/32",
            mydestination="faxpost.test, localhost, other.test",
            fax_domains="faxpost.test")
        cls.ca = fixture.make_ca(os.path.join(cls.inst.dir, "ca"))
        sasl = write_table(cls.inst, "sasl_passwd", ["alice " + crypt_hash("secret")])
        caps = write_table(cls.inst, "capabilities", [
            "bob@faxpost.test (& (image-coding=MH) (paper-size=A4))",
            "other.test (& (image-coding=[MH,MMR]) (paper-size=letter))"])
        # capabilities faxd remembered from a remote machine's DIS, by E.164 number
        remembered = os.path.join(cls.inst.data, "fax_capabilities")
        with open(remembered, "w") as f:
            f.write("+4930999 (& (image-coding=MH) (paper-size=A4) (dpi=204))\n")
        r = cls.inst.faxpost("map", remembered)
        if r.returncode != 0:
            raise RuntimeError("faxpost map %s: %s" % (remembered, r.stderr))
        cls.inst.write_main_cf(smtpd_tls_cert_file=cls.ca["chain"],
                               smtpd_tls_key_file=cls.ca["key"],
                               smtpd_sasl_auth_enable="yes",
                               smtpd_sasl_password_maps=sasl,
                               smtpd_capabilities_maps=caps)
        atexit.register(cls.inst.stop)
        cls.inst.start()
        cls.ctx = client_context(cls.ca["ca_cert"])

    def raw(self, port=None):
        r = Raw(port or self.port)
        code, _ = r.reply()
        self.assertEqual(code, 220)
        return r

    def tls_raw(self):
        r = self.raw()
        self.assertEqual(r.cmd("EHLO t.example")[0], 250)
        self.assertEqual(r.cmd("STARTTLS"), (220, ["220 2.0.0 Ready to start TLS"]))
        r.starttls(self.ctx)
        self.assertEqual(r.cmd("EHLO t.example")[0], 250)
        return r

    # --- real clients ---------------------------------------------------------

    def test_swaks_plain_and_log(self):
        mark = self.inst.log_mark()
        before = self.inst.queue_files("incoming")
        res = fixture.run(["swaks", "--server", "127.0.0.1:%d" % self.port,
                           "--from", "a@example.org", "--to", "bob@faxpost.test",
                           "--h-Message-Id", "<swaks1@test>", "--h-Subject", "plain"],
                          timeout=30)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        m = re.search(r"250 2\.0\.0 Ok: queued as ([0-9A-Z]{12})", res.stdout)
        self.assertTrue(m, res.stdout)
        qid = m.group(1)
        self.assertEqual(new_files(self.inst, before), [qid])
        q = read_queue_file(os.path.join(self.inst.queue, "incoming", qid))
        self.assertEqual(q["sender"], "a@example.org")
        self.assertEqual(q["rcpt"], ["bob@faxpost.test"])
        self.assertTrue(q["content"].startswith(b"Received: from "), q["content"][:200])
        self.assertIn(b"id " + qid.encode(), q["content"][:400])
        self.assertIn(b"\r\nSubject: plain\r\n", q["content"])
        self.inst.wait_log("connect from " + CLIENT, since=mark)
        self.inst.wait_log(r"%s: client=%s$" % (qid, CLIENT), since=mark)
        self.inst.wait_log(r"%s: message-id=<swaks1@test>" % qid, since=mark)
        self.inst.wait_log(r"%s: from=<a@example\.org>, size=\d+, nrcpt=1 \(queue active\)"
                           % qid, since=mark)
        self.inst.wait_log(r"disconnect from " + CLIENT + r" ehlo=1 mail=1 rcpt=1 "
                           r"data=1 quit=1 commands=5", since=mark)

    def test_smtplib_starttls_auth_relay(self):
        before = self.inst.queue_files("incoming")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"), "AUTH offered before TLS")
            s.starttls(context=self.ctx)
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
            s.login("alice", "secret")
            refused = s.sendmail("alice@faxpost.test", ["x@elsewhere.example"],
                                 "Subject: relayed\r\n\r\nhello\r\n")
            self.assertEqual(refused, {})
        files = new_files(self.inst, before)
        self.assertEqual(len(files), 1)
        q = read_queue_file(os.path.join(self.inst.queue, "incoming", files[0]))
        self.assertEqual(q.get("u"), "alice")
        self.assertEqual(q.get("p"), "ESMTPSA")
        self.assertEqual(q["rcpt"], ["x@elsewhere.example"])
        self.inst.wait_log(r"%s: client=%s, sasl_method=PLAIN, sasl_username=alice"
                           % (files[0], CLIENT))

    def test_swaks_starttls_auth(self):
        before = self.inst.queue_files("incoming")
        res = fixture.run(["swaks", "--server", "127.0.0.1:%d" % self.port, "--tls",
                           "--tls-verify", "--tls-ca-path", self.ca["ca_cert"],
                           "--tls-sni", "localhost",
                           "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "secret",
                           "--from", "alice@faxpost.test", "--to", "y@elsewhere.example"],
                          timeout=30)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("235 2.7.0 Authentication successful", res.stdout)
        self.assertEqual(len(new_files(self.inst, before)), 1)

    def test_dsn_parameters_stored(self):
        before = self.inst.queue_files("incoming")
        r = self.raw()
        r.cmd("EHLO t.example")
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org> RET=HDRS ENVID=env+2B1 BODY=8BITMIME")[0],
                         250)
        self.assertEqual(r.cmd("RCPT TO:<bob@faxpost.test> NOTIFY=SUCCESS,DELAY "
                               "ORCPT=rfc822;bob+40faxpost.test")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        self.assertEqual(r.cmd("Subject: dsn\r\n\r\n\xe4\r\n.")[0], 250)
        files = new_files(self.inst, before)
        self.assertEqual(len(files), 1)
        with open(os.path.join(self.inst.queue, "incoming", files[0]), "rb") as f:
            raw = f.read()
        self.assertIn(b"env+1", raw)                     # ENVID, xtext-decoded
        self.assertIn(b"rfc822;bob@faxpost.test", raw)   # ORCPT, decoded
        q = read_queue_file(os.path.join(self.inst.queue, "incoming", files[0]))
        self.assertEqual(q.get("i"), "env+1")

    def test_smtplib_login_mechanism(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
            s.starttls(context=self.ctx)
            s.ehlo("client.example")
            s.user, s.password = "alice", "secret"
            code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            self.assertEqual(code, 235)

    def test_openssl_s_client_starttls(self):
        # one command at a time: a pipelined batch behind EHLO would be (rightly) a
        # synchronization error
        p = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-connect",
                              "127.0.0.1:%d" % self.port, "-CAfile", self.ca["ca_cert"],
                              "-verify_return_error", "-crlf", "-quiet", "-ign_eof"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        try:
            for line in (b"EHLO s-client.example\n", b"NOOP\n", b"QUIT\n"):
                time.sleep(0.5)
                p.stdin.write(line)
                p.stdin.flush()
            out, _ = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out = out.decode("latin-1")
        self.assertIn("verify return:1", out)
        self.assertIn("250-AUTH PLAIN LOGIN", out, out)
        self.assertIn("250 2.0.0 Ok", out)
        self.assertIn("221 2.0.0 Bye", out)
        inside = out.split("250-faxpost.test", 1)[-1]
        self.assertNotIn("STARTTLS", inside)

    def test_implicit_tls_submissions(self):
        before = self.inst.queue_files("incoming")
        with smtplib.SMTP_SSL("127.0.0.1", self.sport, timeout=20, context=self.ctx) as s:
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            s.login("alice", "secret")
            s.sendmail("alice@faxpost.test", [FAX_RCPT], "Subject: fax\r\n\r\npage\r\n")
        self.assertEqual(len(new_files(self.inst, before)), 1)

    # --- STARTTLS and AUTH hostile inputs ---------------------------------------

    def test_starttls_injection(self):
        r = self.raw()
        self.assertEqual(r.cmd("EHLO t.example")[0], 250)
        r.send("STARTTLS\r\nRSET\r\n")        # one segment
        self.assertEqual(r.reply(), (220, ["220 2.0.0 Ready to start TLS"]))
        r.starttls(self.ctx)
        # the first reply inside TLS answers this VRFY, not the injected RSET
        self.assertEqual(r.cmd("VRFY x")[0], 502)
        self.assertEqual(r.cmd("MAIL FROM:<a@b.example>")[1],
                         ["503 5.5.1 Error: send HELO/EHLO first"])
        self.assertEqual(r.cmd("STARTTLS")[1], ["554 5.5.1 Error: TLS already active"])
        r.close()
        r = self.raw()
        r.cmd("EHLO t.example")
        self.assertEqual(r.cmd("STARTTLS foo")[1], ["501 5.5.4 Syntax: STARTTLS"])
        r.close()

    def test_auth_hostile(self):
        r = self.raw()
        r.cmd("EHLO t.example")
        self.assertEqual(r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")[1],
                         ["538 5.7.11 Encryption required for requested authentication mechanism"])
        r.close()
        r = self.tls_raw()
        self.assertEqual(r.cmd("AUTH PLAIN !!!!")[1], ["501 5.5.2 Cannot decode response"])
        self.assertEqual(r.cmd("AUTH PLAIN")[0], 334)
        self.assertEqual(r.cmd("*")[1], ["501 5.7.0 Authentication aborted"])
        self.assertEqual(r.cmd("AUTH PLAIN " + "QUFB" * 5000)[1],
                         ["500 5.5.6 Authentication Exchange line is too long"])
        for _ in range(8):          # mechanism A, cancel, mechanism B (CVE-2011-1720 shape)
            self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
            self.assertEqual(r.cmd("*")[0], 501)
            self.assertEqual(r.cmd("AUTH PLAIN")[0], 334)
            self.assertEqual(r.cmd("*")[0], 501)
        r.close()
        r = self.tls_raw()            # 3 bad credentials: 535, 535, 421 and close
        t0 = time.monotonic()
        self.assertEqual(r.cmd("AUTH PLAIN AGFsaWNlAHdyb25n")[1],
                         ["535 5.7.8 Error: authentication failed"])
        self.assertEqual(r.cmd("AUTH PLAIN AGFsaWNlAHdyb25n")[0], 535)
        self.assertGreaterEqual(time.monotonic() - t0, 1.9, "no delay after a failure")
        self.assertEqual(r.cmd("AUTH PLAIN AGFsaWNlAHdyb25n")[1],
                         ["421 4.7.0 faxpost.test Error: too many errors"])
        self.assertTrue(r.at_eof())
        r.close()

    # --- CONNEG ---------------------------------------------------------------

    def test_conneg(self):
        before = self.inst.queue_files("incoming")
        r = self.raw()
        code, lines = r.cmd("EHLO t.example")
        self.assertIn("250-CONPERM", lines)
        self.assertIn("250-CONNEG", lines + [lines[-1].replace("250 ", "250-")])
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org> CONPERM")[0], 250)
        code, lines = r.cmd("RCPT TO:<%s> CONNEG" % FAX_RCPT)
        self.assertEqual(code, 250)
        self.assertEqual(lines[0], "250-2.1.5 Ok")
        for ln in lines[1:-1]:
            self.assertTrue(ln.startswith("250-CONNEG "), lines)
            self.assertLess(len(ln) + 2, 512)
        self.assertTrue(lines[-1].startswith("250 CONNEG "), lines)
        expr = " ".join(ln[11:] for ln in lines[1:])
        for want in ("image-coding", "MMR", "JBIG-T85", "JBIG-stripe-size=128", "400",
                     "TIFF-minimal", "B4"):
            self.assertIn(want, expr)
        self.assertEqual(expr.count("("), expr.count(")"))
        code, lines = r.cmd("RCPT TO:<bob@faxpost.test> CONNEG")    # by address
        self.assertEqual(lines[0], "250-2.1.5 Ok")
        self.assertIn("image-coding=MH", " ".join(lines[1:]))
        code, lines = r.cmd("RCPT TO:<x@other.test> CONNEG")        # by domain
        self.assertIn("paper-size=letter", " ".join(lines[1:]))
        self.assertEqual(r.cmd("RCPT TO:<carol@faxpost.test> CONNEG")[1], ["250 2.1.5 Ok"])
        self.assertEqual(r.cmd("DATA")[0], 354)
        self.assertEqual(r.cmd("Subject: c\r\n\r\nbody\r\n.")[0], 250)
        r.cmd("QUIT")
        files = new_files(self.inst, before)
        self.assertEqual(len(files), 1)
        q = read_queue_file(os.path.join(self.inst.queue, "incoming", files[0]))
        self.assertEqual(q["attr"].get("conperm"), "yes")
        self.assertIn("JBIG", q["attr"].get("conneg.0", ""))
        self.assertIn("image-coding=MH", q["attr"].get("conneg.1", ""))
        self.assertNotIn("conneg.3", q["attr"])

    def test_conneg_remembered_fax(self):
        r = self.raw()
        r.cmd("EHLO t.example")
        r.cmd("MAIL FROM:<a@example.org>")
        code, lines = r.cmd("RCPT TO:<FAX=+4930999@faxpost.test> CONNEG")
        self.assertEqual(lines[0], "250-2.1.5 Ok")
        expr = " ".join(ln[11:] for ln in lines[1:])
        self.assertIn("image-coding=MH", expr)
        self.assertNotIn("JBIG", expr)             # not the gateway's default
        code, lines = r.cmd("RCPT TO:<FAX=+4930123456@faxpost.test> CONNEG")
        self.assertIn("JBIG", " ".join(lines[1:]))  # unknown number: the default
        r.close()

    # --- smuggling, pipelining ----------------------------------------------------

    VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\r.\r\n",
                b"\r\n.\r", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]

    def smuggle(self, port, inst):
        for v in self.VARIANTS:
            before = inst.queue_files("incoming")
            r = self.raw(port)
            r.cmd("EHLO t.example")
            r.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@faxpost.test>\r\nDATA\r\n")
            self.assertEqual([r.reply()[0] for _ in range(3)], [250, 250, 354])
            r.send(b"Subject: smuggle\r\n\r\nline one" + v +
                   b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@faxpost.test>\r\n"
                   b"DATA\r\nsmuggled\r\n.\r\n")
            code, lines = r.reply()
            r.send("QUIT\r\n")
            r.close()
            files = new_files(inst, before)
            yield v, code, lines, files

    def test_smuggling_normalize(self):
        for v, code, lines, files in self.smuggle(self.port, self.inst):
            self.assertEqual(code, 250, "%r: %s" % (v, lines))
            self.assertEqual(len(files), 1, v)
            q = read_queue_file(os.path.join(self.inst.queue, "incoming", files[0]))
            self.assertEqual(q["rcpt"], ["bob@faxpost.test"])
            self.assertIn(b"smuggled", q["content"])
            self.assertIn(b"MAIL FROM:<evil@example.org>", q["content"])
            body = q["content"]
            self.assertNotIn(b"\r\r", body)
            self.assertEqual(body.count(b"\n"), body.count(b"\r\n"), "bare LF stored %r" % v)

    def test_smuggling_reject_policy(self):
        inst, p = standalone({"mydestination": "faxpost.test", "fax_domains": "faxpost.test"},
                             "-o", "smtpd_line_policy=reject")
        try:
            for v, code, lines, files in self.smuggle(p.port, inst):
                self.assertTrue(lines[0].startswith("550 5."), "%r: %s" % (v, lines))
                self.assertEqual(files, [], v)
            r = Raw(p.port)
            r.reply()
            self.assertEqual(r.cmd("NOOP")[0], 250)
            r.send("EHLO bare.example\n")
            self.assertEqual(r.reply()[1], ["550 5.5.2 faxpost.test Error: bare <LF> received"])
            r.close()
        finally:
            p.stop()

    def test_pipelining_after_helo(self):
        before = self.inst.queue_files("incoming")
        r = self.raw()
        self.assertEqual(r.cmd("HELO t.example")[0], 250)
        for c in ("MAIL FROM:<a@example.org>", "RCPT TO:<bob@faxpost.test>", "DATA"):
            self.assertIn(r.cmd(c)[0], (250, 354))
        r.send("body\r\n.\r\nMAIL FROM:<evil@example.org>\r\n")
        self.assertEqual(r.reply()[1], ["554 5.5.0 Error: SMTP protocol synchronization"])
        self.assertTrue(r.at_eof())
        self.assertEqual(new_files(self.inst, before), [])
        r = self.raw()     # a command pipelined behind EHLO
        r.send("EHLO t.example\r\nMAIL FROM:<a@example.org>\r\n")
        self.assertEqual(r.reply()[1], ["554 5.5.0 Error: SMTP protocol synchronization"])
        self.assertTrue(r.at_eof())

    def test_pipelining_allowed_after_ehlo(self):
        before = self.inst.queue_files("incoming")
        r = self.raw()
        r.cmd("EHLO t.example")
        r.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@faxpost.test>\r\n"
               "RCPT TO:<carol@faxpost.test>\r\nDATA\r\n")
        self.assertEqual([r.reply()[0] for _ in range(4)], [250, 250, 250, 354])
        r.send("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 221)
        self.assertEqual(len(new_files(self.inst, before)), 1)

    # --- relay, addresses, lines ------------------------------------------------

    def test_open_relay_outside(self):
        before = self.inst.queue_files("incoming")
        D, S, IP = "elsewhere.example", "faxpost.test", "127.0.0.1"
        cases = [
            ("<>", "relaytest@%s" % D), ("antispam@%s" % D, "relaytest@%s" % D),
            ("antispam@%s" % S, "relaytest@%s" % D), ("antispam@[%s]" % IP, "relaytest@%s" % D),
            ("antispam@[%s]" % IP, "relaytest%%%s@[%s]" % (D, IP)),
            ("antispam@[%s]" % IP, "relaytest%%%s@%s" % (D, S)),
            ("antispam@[%s]" % IP, '"relaytest@%s"' % D),
            ("antispam@[%s]" % IP, '"relaytest%%%s"' % D),
            ("antispam@[%s]" % IP, "relaytest@%s@[%s]" % (D, IP)),
            ("antispam@[%s]" % IP, '"relaytest@%s"@[%s]' % (D, IP)),
            ("antispam@[%s]" % IP, "relaytest@%s@%s" % (D, S)),
            ("antispam@[%s]" % IP, "@[%s]:relaytest@%s" % (IP, D)),
            ("antispam@[%s]" % IP, "@%s:relaytest@%s" % (S, D)),
            ("antispam@[%s]" % IP, "%s!relaytest" % D),
            ("antispam@[%s]" % IP, "%s!relaytest@[%s]" % (D, IP)),
            ("antispam@[%s]" % IP, "%s!relaytest@%s" % (D, S)),
            ("antispam@[%s]" % IP, "FAX=+1555%%x@%s" % S),
            ("antispam@[%s]" % IP, "relaytest@[%s]" % IP),
        ]
        for sender, rcpt in cases:
            r = self.raw()
            r.cmd("EHLO t.example")
            s = "<>" if sender == "<>" else "<%s>" % sender
            self.assertEqual(r.cmd("MAIL FROM:%s" % s)[0], 250, sender)
            code, lines = r.cmd("RCPT TO:<%s>" % rcpt)
            ok = lines[0].startswith("554 5.7.1 ") or lines[0][:9] in ("501 5.1.3", "553 5.1.3",
                                                                         "501 5.1.2")
            self.assertTrue(ok, "%s -> %s: %s" % (sender, rcpt, lines))
            if lines[0].startswith("554"):
                self.assertTrue(lines[0].endswith("Relay access denied"), lines)
            self.assertEqual(r.cmd("DATA")[0], 503)
            r.cmd("QUIT")
            r.close()
        self.assertEqual(new_files(self.inst, before), [])
        self.inst.wait_log(r"NOQUEUE: reject: RCPT from " + CLIENT + r": 554 5\.7\.1 "
                           r"<relaytest@elsewhere\.example>: Relay access denied; "
                           r"from=<> to=<relaytest@elsewhere\.example> proto=ESMTP "
                           r"helo=<t\.example>")

    def test_address_injection(self):
        r = self.raw()
        r.cmd("EHLO t.example")
        code, lines = r.cmd("MAIL FROM:<;sleep 66;>")
        self.assertTrue(lines[0][:9] in ("553 5.1.7", "501 5.1.7"), lines)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org> AUTH=x+0Aspoof")[1][0][:9], "501 5.5.4")
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org> ENVID=+0A")[1][0][:9], "501 5.5.4")
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 250)
        for bad in ("|id@faxpost.test", "`id`@faxpost.test", "$(id)@faxpost.test"):
            code, lines = r.cmd("RCPT TO:<%s>" % bad)
            self.assertTrue(lines[0][:9] in ("553 5.1.3", "501 5.1.3"), lines)
        self.assertEqual(r.cmd("RCPT TO:<a@faxpost.test> ORCPT=rfc822;a+0D+0Ab@c")[1][0][:9],
                         "501 5.5.4")
        r.close()

    def test_long_lines_and_nul(self):
        r = self.raw()
        r.cmd("EHLO t.example")
        self.assertEqual(r.cmd("NOOP " + "x" * 505)[0], 250)            # 512 octets
        self.assertEqual(r.cmd("NOOP " + "x" * 2042)[1], ["500 5.5.2 Error: line too long"])
        self.assertEqual(r.cmd("NOOP")[0], 250)
        r.send(b"NOOP a\x00b\r\n")
        self.assertEqual(r.reply()[1], ["500 5.5.2 Error: bad syntax"])
        r.send("EHLO a\rX-Injected: 1\r\n")
        self.assertEqual(r.reply()[0], 500)
        r.send("EHLO " + "a" * 65536 + "\r\n")                          # 64 KB argument
        self.assertEqual(r.reply()[1], ["500 5.5.2 Error: line too long"])
        self.assertTrue(r.at_eof())
        r = self.raw()
        try:
            r.send(b"z" * (1 << 20))                                    # 1 MiB, no LF
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertEqual(r.reply()[1], ["500 5.5.2 Error: line too long"])
        self.assertTrue(r.at_eof())

    def test_error_and_junk_limits(self):
        r = self.raw()
        for _ in range(20):
            self.assertEqual(r.cmd("FOO")[0], 502)
        self.assertEqual(r.cmd("FOO")[1], ["421 4.7.0 faxpost.test Error: too many errors"])
        self.assertTrue(r.at_eof())
        r = self.raw()
        r.cmd("EHLO t.example")
        for _ in range(100):
            self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assertEqual(r.cmd("NOOP")[0], 421)
        self.assertTrue(r.at_eof())

    def test_sequence_errors(self):
        r = self.raw()
        r.cmd("EHLO t.example")
        self.assertEqual(r.cmd("DATA")[1], ["503 5.5.1 Error: need MAIL command"])
        self.assertEqual(r.cmd("RCPT TO:<bob@faxpost.test>")[1],
                         ["503 5.5.1 Error: need MAIL command"])
        r.cmd("MAIL FROM:<a@example.org>")
        self.assertEqual(r.cmd("DATA")[1], ["503 5.5.1 Error: need RCPT command"])
        self.assertEqual(r.cmd("BDAT 10 LAST")[0], 502)
        r.close()


class SmtpdLimits(unittest.TestCase):
    """Settings that need their own (stand-alone) smtpd."""

    def run_standalone(self, params, *args):
        inst, p = standalone(dict({"mydestination": "faxpost.test"}, **params), *args)
        self.addCleanup(p.stop)
        return inst, p

    def test_size_limits(self):
        inst, p = self.run_standalone({"message_size_limit": 20000})
        r = Raw(p.port)
        r.reply()
        code, lines = r.cmd("EHLO t.example")
        self.assertIn("250-SIZE 20000", lines)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org> SIZE=999999999999")[1],
                         ["552 5.3.4 Message size exceeds fixed limit"])
        r.cmd("MAIL FROM:<a@example.org>")
        r.cmd("RCPT TO:<bob@faxpost.test>")
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(("y" * 998 + "\r\n") * 30)
        self.assertEqual(r.cmd(".")[1], ["552 5.3.4 Error: message file too big"])
        self.assertEqual(inst.queue_files("incoming"), [])
        # tmp/ holds only smtpd's empty spare files, nothing of the refused message
        for name in inst.queue_files("tmp"):
            self.assertEqual(os.path.getsize(os.path.join(inst.queue, "tmp", name)), 0, name)
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_recipient_limit(self):
        inst, p = self.run_standalone({"smtpd_recipient_limit": 3})
        r = Raw(p.port)
        r.reply()
        r.cmd("EHLO t.example")
        r.cmd("MAIL FROM:<a@example.org>")
        for _ in range(3):
            self.assertEqual(r.cmd("RCPT TO:<bob@faxpost.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<bob@faxpost.test>")[1],
                         ["452 4.5.3 Error: too many recipients"])

    def test_timeout(self):
        inst, p = self.run_standalone({"smtpd_timeout": "2s"})
        r = Raw(p.port)
        r.reply()
        t0 = time.monotonic()
        r.send("EHL")           # a partial line does not reset the deadline
        self.assertEqual(r.reply()[1], ["421 4.4.2 faxpost.test Error: timeout exceeded"])
        self.assertLess(time.monotonic() - t0, 5)
        self.assertTrue(r.at_eof())
        inst.wait_log(r"timeout after CONNECT from " + CLIENT)

    def test_slow_clients_and_idle_crowd(self):
        """500 idle sessions after EHLO and 30 trickling a line byte by byte: none is
        refused, the tricklers are cut off at the per-line deadline although bytes keep
        coming, and a canary transaction meanwhile is not held up."""
        inst, p = self.run_standalone({"smtpd_timeout": "3s"})
        idle, trick = [], []
        for _ in range(500):
            r = Raw(p.port)
            r.reply()
            r.send("EHLO idle.example\r\n")
            idle.append(r)
        for r in idle:
            self.assertEqual(r.reply()[0], 250)
        for _ in range(30):
            r = Raw(p.port)
            r.reply()
            trick.append(r)
        t0 = time.monotonic()
        canary_time = None
        for i in range(14):                 # 1 byte per 0.3 s each: never a whole line
            for r in trick:
                try:
                    r.send("NOOP x"[i % 6])
                except OSError:
                    pass
            if i == 3:
                c0 = time.monotonic()
                c = Raw(p.port)
                c.reply()
                c.cmd("EHLO canary.example")
                c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@faxpost.test>\r\nDATA\r\n")
                self.assertEqual([c.reply()[0] for _ in range(3)], [250, 250, 354])
                self.assertEqual(c.cmd("Subject: canary\r\n\r\nx\r\n.")[0], 250)
                canary_time = time.monotonic() - c0
                c.close()
            time.sleep(0.3)
        self.assertLess(canary_time, 2.0)
        for r in trick:
            self.assertEqual(r.reply()[1], ["421 4.4.2 faxpost.test Error: timeout exceeded"])
            self.assertTrue(r.at_eof(2))
        self.assertLess(time.monotonic() - t0, 10)
        # the idle crowd: the deadline holds for them too (they sent a whole line, then
        # nothing), so they are all told 421 as well - and none was refused before
        for r in idle:
            self.assertEqual(r.reply()[0], 421)
            r.close()

    def test_pregreet(self):
        inst, p = self.run_standalone({"smtpd_greet_wait": "1s"})
        rude = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        rude.sendall(b"EHLO pregreet.example\r\n")
        polite = Raw(p.port)
        t0 = time.monotonic()
        self.assertEqual(polite.reply()[0], 220)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        data = b""
        while True:
            chunk = rude.recv(1000)
            if not chunk:
                break
            data += chunk
        self.assertEqual(data, b"554 5.5.0 Error: SMTP protocol synchronization\r\n")
        self.assertEqual(polite.cmd("EHLO polite.example")[0], 250)
        inst.wait_log(r"PREGREET from " + CLIENT)
        rude.close()

    def test_client_connection_limit(self):
        inst, p = self.run_standalone({"mynetworks": "127.0.0.2/32",
                                       "smtpd_client_connection_count_limit": 3})
        held = []
        for _ in range(3):
            r = Raw(p.port)
            self.assertEqual(r.reply()[0], 220)
            held.append(r)
        r = Raw(p.port)
        code, lines = r.reply()
        self.assertEqual(lines, ["421 4.7.0 faxpost.test Error: too many connections from "
                                 "127.0.0.1"])
        held[0].cmd("QUIT")
        held[0].close()
        time.sleep(0.3)
        r = Raw(p.port)
        self.assertEqual(r.reply()[0], 220)

    def test_trusted_relay_and_draft_conneg(self):
        inst, p = self.run_standalone({"mynetworks": "127.0.0.0/8",
                                       "fax_domains": "faxpost.test"},
                                      "-o", "smtpd_conneg_reply_style=draft")
        r = Raw(p.port)
        r.reply()
        r.cmd("EHLO t.example")
        r.cmd("MAIL FROM:<a@example.org>")
        self.assertEqual(r.cmd("RCPT TO:<x@elsewhere.example>")[0], 250)
        code, lines = r.cmd("RCPT TO:<%s> CONNEG" % FAX_RCPT)
        self.assertEqual(lines[0], "250-2.1.5 Ok")
        self.assertTrue(lines[1].startswith("250-("), lines)
        self.assertTrue(lines[-1].startswith("250 "), lines)
        self.assertFalse(any("CONNEG" in ln for ln in lines), lines)

    def test_tls_handshake_stall_and_garbage(self):
        inst = fixture.Instance("smtpd-tls", mydestination="faxpost.test")
        ca = fixture.make_ca(os.path.join(inst.dir, "ca"))
        inst.write_main_cf(smtpd_tls_cert_file=ca["chain"], smtpd_tls_key_file=ca["key"],
                           smtpd_starttls_timeout="2s")
        p = inst.standalone("smtpd", "-o", "smtpd_tls_wrappermode=yes")
        self.addCleanup(p.stop)
        stalled = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        garbage = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        garbage.sendall(b"EHLO plaintext.example\r\n")
        try:                                            # refused handshake: closed
            while garbage.recv(100):                    # (perhaps after a TLS alert)
                pass
        except ConnectionResetError:
            pass
        t0 = time.monotonic()
        r = Raw(p.port, tls_context=client_context(ca["ca_cert"]))   # a canary still works
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd("EHLO canary.example")[0], 250)
        self.assertEqual(stalled.recv(100), b"")        # stalled handshake: cut off
        self.assertLess(time.monotonic() - t0, 5)
        inst.wait_log(r"timeout during TLS handshake from " + CLIENT)
        inst.wait_log(r"SSL_accept error from " + CLIENT)
        stalled.close()
        garbage.close()

    def test_stop_during_data(self):
        """SIGTERM while a message is being sent: it is finished and queued, then 421."""
        inst, p = self.run_standalone({})
        r = Raw(p.port)
        r.reply()
        idle = Raw(p.port)
        idle.reply()
        r.cmd("EHLO t.example")
        r.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@faxpost.test>\r\nDATA\r\n")
        self.assertEqual([r.reply()[0] for _ in range(3)], [250, 250, 354])
        r.send("Subject: stop\r\n\r\nfirst half\r\n")
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGTERM)
        self.assertEqual(idle.reply()[0], 421)          # idle sessions are told at once
        time.sleep(0.3)
        r.send("second half\r\n.\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 421)
        self.assertEqual(p.wait(10), 0)
        files = inst.queue_files("incoming")
        self.assertEqual(len(files), 1)
        q = read_queue_file(os.path.join(inst.queue, "incoming", files[0]))
        self.assertIn(b"second half", q["content"])

    def test_no_tls_configured(self):
        inst, p = self.run_standalone({})
        r = Raw(p.port)
        r.reply()
        code, lines = r.cmd("EHLO t.example")
        self.assertNotIn("250-STARTTLS", lines)
        self.assertEqual(r.cmd("STARTTLS")[1], ["502 5.5.1 Error: command not implemented"])
        self.assertEqual(r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")[1],
                         ["503 5.5.1 Error: authentication not enabled"])


if __name__ == "__main__":
    unittest.main()
