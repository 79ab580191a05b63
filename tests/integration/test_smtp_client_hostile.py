"""The SMTP client against hostile servers (security.md 2.2 client side, 2.9, 5.6 #35).

A scripted fake server (Python, loopback) plays each attack; the client must defer
(never crash, never hang beyond its timeouts, never send the message where it must
not) or deliver correctly when the attack is harmless.
"""
import os
import socket
import ssl
import threading
import time
import unittest

import fixture
from test_qmgr import send, services, wait_until


class FakeServer:
    """Accepts connections on 127.0.0.1:port and runs handler(conn, log) in a thread
    per connection. log is a list of the command lines received."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.log = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(10)
        try:
            self.handler(c, self.log)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop_flag = True
        self.sock.close()
        self.thread.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LineReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise OSError("eof")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode("latin-1")


def normal_dialogue(sock, rd, log, ehlo_lines=("250-fake", "250 PIPELINING")):
    """Answer EHLO/MAIL/RCPT/DATA/QUIT like a plain server (no pipelining games)."""
    while True:
        cmd = rd.line()
        log.append(cmd)
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            sock.sendall(("\r\n".join(ehlo_lines) + "\r\n").encode())
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            sock.sendall(b"250 2.0.0 ok\r\n")
        elif verb == "DATA":
            sock.sendall(b"354 go\r\n")
            while rd.line() != ".":
                pass
            log.append("<data>")
            sock.sendall(b"250 2.0.0 queued\r\n")
        elif verb == "QUIT":
            sock.sendall(b"221 bye\r\n")
            return
        else:
            sock.sendall(b"502 no\r\n")


class Hostile(unittest.TestCase):
    def run_case(self, handler, expect, timeout=30, **params):
        port = fixture.free_port()
        with FakeServer(handler) as fake:
            p = dict(relayhost="[127.0.0.1]:%d" % fake.port, mydestination="faxpost.test",
                     smtp_tls_security_level="none", smtp_helo_timeout="8s",
                     smtp_reply_timeout="8s", minimal_backoff_time="1h",
                     maximal_backoff_time="1h")
            p.update(params)
            inst = fixture.Instance("smtpc-hostile", services(port), **p)
            self.inst = inst
            with inst:
                t0 = time.monotonic()
                send(port, "alice@faxpost.test", ["bob@remote.example"])
                m = inst.wait_log(r"to=<bob@remote\.example>.*" + expect, timeout=timeout)
                self.elapsed = time.monotonic() - t0
                # the agent is still alive and answering: nothing crashed
                self.assertFalse([l for l in inst.log_lines() if "panic" in l or "signal 11" in l
                                  or "fatal" in l])
            return m, fake.log

    def test_endless_multiline_reply(self):
        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 fake\r\n")
            log.append(rd.line())
            chunk = b"250-x\r\n" * 1000
            for _ in range(100):        # 100,000 lines, never a last one
                c.sendall(chunk)
            time.sleep(5)
        m, log = self.run_case(handler, r"dsn=4\.5\.0, status=deferred \(protocol error from .* too many lines in one reply")
        self.assertLess(self.elapsed, 10)

    def test_overlong_reply_line_is_truncated_and_harmless(self):
        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 " + b"g" * 100000 + b"\r\n")
            normal_dialogue(c, rd, log, ehlo_lines=("250-" + "x" * 1000000, "250 PIPELINING"))
        m, log = self.run_case(handler, r"dsn=2\.0\.0, status=sent")
        self.assertIn("<data>", log)

    def test_bad_reply_codes(self):
        for greeting in (b"2a0 x\r\n", b"099 x\r\n", b"600 x\r\n", b"25\r\n"):
            def handler(c, log, g=greeting):
                c.sendall(g)
                time.sleep(2)
            self.run_case(handler, r"dsn=4\.5\.0, status=deferred \(protocol error")

    def test_starttls_response_injection(self):
        ca = fixture.make_ca(os.path.join(fixture.BUILD, "itest", "hostile-ca-%d" % os.getpid()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca["cert"], ca["key"])

        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 fake\r\n")
            log.append(rd.line())
            c.sendall(b"250-fake\r\n250 STARTTLS\r\n")
            cmd = rd.line()
            log.append(cmd)
            assert cmd == "STARTTLS"
            # the 220 and an injected reply in one segment, before the handshake
            c.sendall(b"220 go ahead\r\n250 injected\r\n")
            t = ctx.wrap_socket(c, server_side=True)
            rd2 = LineReader(t)
            first = rd2.line()
            log.append("TLS:" + first)
            if not first.upper().startswith("EHLO"):
                t.sendall(b"503 5.5.1 EHLO first\r\n")
                return
            t.sendall(b"250-fake\r\n250 PIPELINING\r\n")
            normal_dialogue(t, rd2, log)

        m, log = self.run_case(handler, r"dsn=2\.0\.0, status=sent",
                               smtp_tls_security_level="may")
        self.assertIn("TLS:EHLO faxpost.test", log)
        self.assertIn("<data>", log)
        self.inst.wait_log(r"TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]")

    def test_tls_stripped_with_verify_sends_nothing(self):
        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 fake\r\n")
            normal_dialogue(c, rd, log)     # no STARTTLS offered
        m, log = self.run_case(handler, r"dsn=4\.7\.4, status=deferred \(TLS is required, but was not offered",
                               smtp_tls_security_level="verify")
        self.assertFalse([l for l in log if l.upper().startswith(("MAIL", "RCPT", "AUTH", "<DATA>"))])

    def test_verify_refuses_certificate_of_unknown_ca(self):
        base = os.path.join(fixture.BUILD, "itest", "hostile-ca2-%d" % os.getpid())
        trusted = fixture.make_ca(os.path.join(base, "trusted"))
        rogue = fixture.make_ca(os.path.join(base, "rogue"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(rogue["cert"], rogue["key"])

        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 fake\r\n")
            log.append(rd.line())
            c.sendall(b"250-fake\r\n250 STARTTLS\r\n")
            log.append(rd.line())
            c.sendall(b"220 go ahead\r\n")
            try:
                t = ctx.wrap_socket(c, server_side=True)
            except (ssl.SSLError, OSError):
                log.append("handshake refused")
                return
            normal_dialogue(t, LineReader(t), log)

        m, log = self.run_case(handler, r"dsn=4\.7\.5, status=deferred \(TLS handshake with .* failed",
                               smtp_tls_security_level="verify", smtp_tls_CAfile=trusted["ca_cert"])
        self.assertFalse([l for l in log if l.upper().startswith(("MAIL", "RCPT", "AUTH"))])

    def test_agent_that_hangs_is_timed_out_by_qmgr(self):
        """The server stalls after DATA; qmgr's ipc_timeout ends the job first and
        defers the recipient (4.4.2); nothing is lost, the message stays queued."""
        def handler(c, log):
            rd = LineReader(c)
            c.sendall(b"220 fake\r\n")
            while True:
                cmd = rd.line()
                log.append(cmd)
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    c.sendall(b"250-fake\r\n250 PIPELINING\r\n")
                elif verb == "DATA":
                    c.sendall(b"354 go\r\n")
                    while rd.line() != ".":
                        pass
                    time.sleep(8)       # no end-of-data reply for a long time
                    return
                else:
                    c.sendall(b"250 ok\r\n")
        m, log = self.run_case(handler, r"dsn=4\.4\.2, status=deferred \(delivery agent timed out\)",
                               ipc_timeout="2s", smtp_reply_timeout="60s")
        self.assertLess(self.elapsed, 6)
        self.assertTrue(self.inst.queue_files("deferred") or self.inst.queue_files("active"))

    def test_silent_server_times_out(self):
        def handler(c, log):
            time.sleep(12)              # never greets
        m, log = self.run_case(handler, r"dsn=4\.4\.2, status=deferred \(conversation with .* timed out while receiving the initial server greeting",
                               smtp_helo_timeout="2s")
        self.assertLess(self.elapsed, 8)


if __name__ == "__main__":
    unittest.main()
