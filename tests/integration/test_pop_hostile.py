"""test_pop_hostile.py: popd-client against hostile POP3 servers (security.md 2.11).

A scripted POP3 server (a Python thread on a free loopback port) misbehaves in one way
per test; each case checks the error, that nothing partial was queued, and that
nothing was deleted that was not durably queued.
"""
import os
import socket
import ssl
import threading
import time
import unittest

import fixture
from test_pop import PopCase, make_message


class ScriptedPop3:
    """A small POP3 server: one mailbox of `messages` (list of (uidl, bytes)); hooks
    change its behaviour. Records every command it got in .commands."""

    def __init__(self, messages, greeting=b"+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                 capa=(b"USER", b"UIDL"), tls_ctx=None):
        self.messages = list(messages)
        self.greeting = greeting
        self.capa = list(capa)
        self.tls_ctx = tls_ctx
        self.commands = []
        self.deleted = set()
        self.hooks = {}           # VERB -> fn(self, conn, arg) returning True if handled
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.stop_flag = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stop_flag = True
        try:
            self.sock.close()
        except OSError:
            pass
        self.thread.join(5)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop_flag:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(10)
            try:
                self._session(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    def _readline(self, f):
        line = f.readline(4096)
        if not line:
            raise EOFError
        return line.rstrip(b"\r\n").decode("latin-1")

    def _session(self, conn):
        conn.sendall(self.greeting)
        if self.hooks.get("after_greeting") and self.hooks["after_greeting"](self, conn, ""):
            return
        f = conn.makefile("rb")
        pending_dele = set()
        while True:
            try:
                line = self._readline(f)
            except (EOFError, socket.timeout):
                return
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            self.commands.append(verb)
            hook = self.hooks.get(verb)
            if hook and hook(self, conn, arg):
                if verb == "STLS" and getattr(self, "tls_conn", None):
                    conn = self.tls_conn
                    f = conn.makefile("rb")
                    self.tls_conn = None
                continue
            if verb == "CAPA":
                conn.sendall(b"+OK\r\n" + b"".join(c + b"\r\n" for c in self.capa) + b".\r\n")
            elif verb in ("USER", "PASS", "APOP", "NOOP"):
                conn.sendall(b"+OK\r\n")
            elif verb == "STAT":
                conn.sendall(b"+OK %d %d\r\n" % (len(self.messages),
                                                 sum(len(m) for _, m in self.messages)))
            elif verb == "LIST":
                conn.sendall(b"+OK\r\n" + b"".join(b"%d %d\r\n" % (i + 1, len(m)) for i, (_, m)
                                                   in enumerate(self.messages)) + b".\r\n")
            elif verb == "UIDL":
                conn.sendall(b"+OK\r\n" + b"".join(b"%d %s\r\n" % (i + 1, u) for i, (u, _)
                                                   in enumerate(self.messages)) + b".\r\n")
            elif verb == "RETR":
                data = self.messages[int(arg) - 1][1]
                stuffed = b"\r\n".join((b"." + l if l.startswith(b".") else l)
                                       for l in data.split(b"\r\n"))
                conn.sendall(b"+OK\r\n" + stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n")
                             + b".\r\n")
            elif verb == "DELE":
                pending_dele.add(int(arg))
                conn.sendall(b"+OK\r\n")
            elif verb == "QUIT":
                self.deleted |= pending_dele
                conn.sendall(b"+OK bye\r\n")
                return
            else:
                conn.sendall(b"-ERR unknown\r\n")


class HostileCase(PopCase):
    def setUp(self):
        super().setUp()
        self.inst.write_main_cf(pop_timeout="2s")

    def serve(self, messages, **kw):
        srv = ScriptedPop3(messages, **kw)
        self.addCleanup(srv.close)
        self.set_mailbox(port=srv.port)
        return srv

    def good(self, n=2):
        return [(b"uid%d" % i, make_message(i)) for i in range(n)]


class TestHostilePop(HostileCase):
    def test_huge_status_line(self):
        srv = self.serve(self.good(), greeting=b"+OK " + b"A" * (1024 * 1024) + b"\r\n")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("longer than 512", r.stdout + r.stderr)
        self.assertEqual(self.queued(), {})
        self.assertNotIn("USER", srv.commands)

    def test_endless_listing(self):
        srv = self.serve(self.good())

        def endless(s, conn, arg):
            conn.sendall(b"+OK\r\n")
            try:
                for i in range(200000):
                    conn.sendall(b"1 uid%d\r\n" % i)
            except OSError:
                pass
            return True
        srv.hooks["UIDL"] = endless
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("listing longer than the limit", r.stdout + r.stderr)
        self.assertEqual(self.queued(), {})

    def test_bad_and_duplicate_uidls_skipped(self):
        msgs = [(b"A" * 71, make_message(1)), (b"dup", make_message(2)),
                (b"dup", make_message(3)), (b"ok4", make_message(4))]
        srv = self.serve(msgs)
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1 fetched, 3 skipped", r.stdout)
        self.assertEqual(self.message_ids(), [b"msg-4"])
        self.assertEqual(srv.deleted, {4})

    def test_bogus_message_numbers_ignored(self):
        srv = self.serve(self.good(1))

        def bogus_list(s, conn, arg):
            conn.sendall(b"+OK\r\n0 10\r\n-1 10\r\n18446744073709551616 5\r\n1 %d\r\n.\r\n"
                         % len(s.messages[0][1]))
            return True
        srv.hooks["LIST"] = bogus_list
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1, "more listing lines than STAT's count is an error")
        self.assertEqual(self.queued(), {})

    def test_message_larger_than_announced(self):
        srv = self.serve(self.good(1))

        def big_retr(s, conn, arg):
            conn.sendall(b"+OK\r\n" + make_message(9) + b"x" * 70 + b"\r\n")
            try:
                for _ in range(2000):
                    conn.sendall(b"y" * 998 + b"\r\n")
                conn.sendall(b".\r\n")
            except OSError:
                pass
            return True
        srv.hooks["RETR"] = big_retr
        self.inst.start()
        r = self.receive()
        self.assertIn("1 skipped", r.stdout)
        self.assertEqual(self.queued(), {})
        self.assertNotIn("DELE", srv.commands)
        self.inst.wait_log(r"larger than the size limit")

    def test_bare_lf_dot_does_not_end_message(self):
        srv = self.serve(self.good(2))

        def retr(s, conn, arg):
            if arg == "1":
                conn.sendall(b"+OK\r\nMessage-ID: <msg-0@faxpost.test>\r\n\r\nfirst part\n.\n"
                             b"+OK smuggled reply\r\nstill message 1\r\n.\r\n")
                return True
            return False
        srv.hooks["RETR"] = retr
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("2 fetched, 0 skipped, 2 deleted", r.stdout)
        data = [d for d in self.queued().values() if b"msg-0" in d]
        self.assertEqual(len(data), 1)
        self.assertIn(b"first part\r\n", data[0])
        self.assertIn(b"still message 1\r\n", data[0])
        self.assertEqual(sorted(self.message_ids()), [b"msg-0", b"msg-1"])

    def test_retr_never_ends(self):
        srv = self.serve(self.good(1))

        def stall(s, conn, arg):
            conn.sendall(b"+OK\r\nSubject: x\r\n\r\nhalf a message\r\n")
            time.sleep(4)
            return True
        srv.hooks["RETR"] = stall
        self.inst.start()
        t0 = time.time()
        r = self.receive()
        self.assertLess(time.time() - t0, 30)
        self.assertIn("1 skipped", r.stdout)
        self.assertEqual(self.queued(), {})
        self.assertNotIn("DELE", srv.commands)

    def test_server_stalls_after_greeting(self):
        srv = self.serve(self.good(1))
        srv.hooks["after_greeting"] = lambda s, conn, arg: time.sleep(4) or True
        self.inst.start()
        t0 = time.time()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertLess(time.time() - t0, 30)
        self.assertIn("timeout", r.stdout + r.stderr)

    def test_stls_missing_means_no_credentials(self):
        srv = self.serve(self.good(1))
        self.set_mailbox(port=srv.port, tls="stls", allow_plaintext="no")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not offer STLS", r.stdout + r.stderr)
        self.assertNotIn("USER", srv.commands)
        self.assertNotIn("PASS", srv.commands)

    def test_lost_quit_no_second_fetch(self):
        srv = self.serve(self.good(2))

        def drop(s, conn, arg):
            conn.close()
            return True
        srv.hooks["QUIT"] = drop
        self.inst.start()
        self.receive()
        self.assertEqual(sorted(self.message_ids()), [b"msg-0", b"msg-1"])
        self.assertEqual(srv.deleted, set(), "the server never committed the deletions")
        del srv.hooks["QUIT"]
        srv.commands.clear()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 fetched, 0 skipped, 2 deleted", r.stdout)
        self.assertNotIn("RETR", srv.commands)
        self.assertEqual(srv.deleted, {1, 2})
        self.assertEqual(sorted(self.message_ids()), [b"msg-0", b"msg-1"])


class TestHostileTls(HostileCase):
    tls = True

    def test_stls_injection_discarded(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.ca["cert"], self.ca["key"])
        srv = self.serve(self.good(1), capa=(b"USER", b"UIDL", b"STLS"))

        def stls(s, conn, arg):
            conn.sendall(b"+OK begin TLS\r\n+OK injected\r\n-ERR injected\r\n")
            s.tls_conn = ctx.wrap_socket(conn, server_side=True)
            return True
        srv.hooks["STLS"] = stls
        self.set_mailbox(port=srv.port, tls="stls", verify="verify", allow_plaintext="no")
        self.inst.write_main_cf(pop_tls_ca_file=self.ca["ca_cert"], pop_timeout="2s")
        self.inst.start()
        r = self.receive()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.message_ids(), [b"msg-0"])
        # CAPA was issued again after TLS, and the injected replies were not taken
        self.assertEqual(srv.commands[:3], ["CAPA", "STLS", "CAPA"])


if __name__ == "__main__":
    unittest.main()
