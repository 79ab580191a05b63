"""qmgr end to end: smtpd -> qmgr -> local / smtp, with real peers (smtp-sink).

Each test makes a private instance (fixture.Instance) with smtpd on a free port, qmgr,
smtp and local, and checks where the messages end up and what the log says.
"""
import glob
import os
import re
import smtplib
import time
import unittest

import fixture


def services(port, extra=()):
    return ["%d inet n - n - 2 smtpd" % port,
            "qmgr unix-dgram n - n 300 1 qmgr",
            "smtp unix - - n - 10 smtp",
            "local unix - - n - 4 local"] + list(extra)


def send(port, sender, rcpts, body="Subject: test\r\n\r\nhello\r\n", **kw):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.ehlo("client.test")
        refused = s.sendmail(sender, rcpts, body, **kw)
    return refused


def maildir_files(inst, user):
    base = os.path.join(inst.data, "mail", user, "Maildir", "new")
    return sorted(glob.glob(os.path.join(base, "*")))


def wait_until(fn, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def sink(port, spool, *args):
    """smtp-sink on 127.0.0.1:port; each message is dumped into the folder spool."""
    os.makedirs(spool, exist_ok=True)
    os.chmod(spool, 0o777)
    p = fixture.Proc(["smtp-sink", "-u", "nobody", "-d", os.path.join(spool, "m.")] + list(args)
                     + ["127.0.0.1:%d" % port, "100"], name="smtp-sink")
    fixture.wait_listen(port)
    return p


def sink_files(spool):
    out = []
    for f in sorted(glob.glob(os.path.join(spool, "m.*"))):
        with open(f, "rb") as fh:
            data = fh.read()
        if data:    # smtp-sink leaves an empty dump for a transaction that was reset
            out.append(data)
    return out


class QmgrLocal(unittest.TestCase):
    def test_local_maildir_and_unknown_user(self):
        port = fixture.free_port()
        # a virtual-user table: only anna and bob exist
        inst = fixture.Instance("qmgr-local", services(port))
        table = os.path.join(inst.etc, "mailboxes")
        with open(table, "w") as f:
            f.write("anna anna/Maildir/\nbob@faxpost.test bob/Maildir/\n")
        r = inst.faxpost("map", table)
        self.assertEqual(r.returncode, 0, r.stderr)
        inst.write_main_cf(local_mailbox_maps=table, mydestination="faxpost.test, localhost")
        with inst:
            send(port, "alice@example.com", ["anna@faxpost.test", "bob@faxpost.test"])
            m = inst.wait_log(r"to=<anna@faxpost\.test>.*status=sent")
            inst.wait_log(r"to=<bob@faxpost\.test>.*status=sent")
            inst.wait_log(r": removed")
            files = maildir_files(inst, "anna")
            self.assertEqual(len(files), 1)
            with open(files[0], "rb") as f:
                data = f.read()
            self.assertIn(b"Return-Path: <alice@example.com>\n", data)
            self.assertIn(b"hello\n", data)
            self.assertNotIn(b"\r\n", data)
            self.assertEqual(len(maildir_files(inst, "bob")), 1)
            self.assertIn("relay=local", m.group(0))
            # user+extension goes to user (local_recipient_delimiter)
            send(port, "alice@example.com", ["anna+fax@faxpost.test"])
            inst.wait_log(r"to=<anna\+fax@faxpost\.test>.*status=sent")
            wait_until(lambda: len(maildir_files(inst, "anna")) == 2, what="extension delivered")
            self.assertRegex(m.group(0), r"delays=[\d.e-]+/[\d.e-]+/[\d.e-]+/[\d.e-]+, dsn=2\.0\.0")

            # unknown user: 5.1.1 bounce, DSN back to the (local) sender
            mark = inst.log_mark()
            send(port, "anna@faxpost.test", ["nobody@faxpost.test"])
            inst.wait_log(r"to=<nobody@faxpost\.test>.*dsn=5\.1\.1, status=bounced", since=mark)
            inst.wait_log(r"sender non-delivery notification: \w+", since=mark)
            files = wait_until(lambda: len(maildir_files(inst, "anna")) == 3 and maildir_files(inst, "anna"),
                               what="the DSN in anna's mailbox")
            dsn = [open(f, "rb").read() for f in files if b"MAILER-DAEMON" in open(f, "rb").read()]
            self.assertEqual(len(dsn), 1)
            self.assertIn(b"Return-Path: <>", dsn[0])
            self.assertIn(b"multipart/report; report-type=delivery-status", dsn[0])
            self.assertIn(b"Final-Recipient: rfc822; nobody@faxpost.test", dsn[0])
            self.assertIn(b"Action: failed", dsn[0])
            self.assertIn(b"Status: 5.1.1", dsn[0])
            wait_until(lambda: not inst.queue_files("active") and not inst.queue_files("incoming")
                       and not inst.queue_files("deferred"), what="an empty queue")


class QmgrRecycledFiles(unittest.TestCase):
    """A delivered message's file goes to free/ (emptied); smtpd's next messages take
    those files instead of new inodes (docs/queue.md, "Recycled queue files")."""

    def pool(self, inst):
        """Inodes of free/ and tmp/ (smtpd's spare files), and free/ sizes."""
        inodes, sizes = set(), []
        for state in ("free", "tmp"):
            d = os.path.join(inst.queue, state)
            for name in os.listdir(d):
                if name.startswith("."):
                    continue
                st = os.stat(os.path.join(d, name))
                inodes.add(st.st_ino)
                if state == "free":
                    sizes.append(st.st_size)
        return inodes, sizes

    def settled(self, inst, spares):
        """The queue empty, smtpd's spares back in tmp/, and nothing moving."""
        seen = []

        def ok():
            if inst.queue_files("incoming") or inst.queue_files("active"):
                seen.clear()
                return None
            inodes, sizes = self.pool(inst)
            seen.append((inodes, sizes))
            if len(seen) < 3 or any(x[0] != inodes for x in seen[-3:]):
                return None
            return (inodes, sizes) if len(inodes) - len(sizes) == spares else None
        return wait_until(ok, what="a settled queue")

    def test_delivered_files_are_reused(self):
        port = fixture.free_port()
        # one smtpd process: its 8 spare files are the only other files in play
        svc = ["%d inet n - n - 1 smtpd" % port] + services(port)[1:]
        inst = fixture.Instance("qmgr-recycle", svc, mydestination="faxpost.test")
        n, n2, spares = 20, 20, 8
        with inst:
            for i in range(n):
                send(port, "alice@example.com", ["anna@faxpost.test"],
                     body="Subject: round 1 msg %d\r\n\r\nbody 1-%d\r\n" % (i, i))
            wait_until(lambda: len(maildir_files(inst, "anna")) == n, what="round 1")
            first, sizes = self.settled(inst, spares)
            # delivered files went to free/, emptied (smtpd refills its spares from
            # free/ as well, so some already served a second message)
            self.assertTrue(sizes)
            self.assertEqual(set(sizes), {0})
            for i in range(n2):
                send(port, "alice@example.com", ["anna@faxpost.test"],
                     body="Subject: round 2 msg %d\r\n\r\nbody 2-%d\r\n" % (i, i))
            wait_until(lambda: len(maildir_files(inst, "anna")) == n + n2, what="round 2")
            second, sizes2 = self.settled(inst, spares)
            self.assertEqual(set(sizes2), {0})
            # nothing unlinked (the pool is far from full), and round 2 ran mostly on
            # round 1's files: without the pool every message is a new inode
            self.assertTrue(first <= second)
            self.assertLess(len(second - first), n2)
        bodies = []
        for f in maildir_files(inst, "anna"):
            with open(f, "rb") as fh:
                bodies += re.findall(rb"body (\d-\d+)", fh.read())
        want = sorted([b"1-%d" % i for i in range(n)] + [b"2-%d" % i for i in range(n2)])
        self.assertEqual(sorted(bodies), want)    # each once, nothing left over from before


class QmgrDiscard(unittest.TestCase):
    def test_transport_table_discard(self):
        """discard:TEXT in the transport table: logged sent (TEXT), relay=none, the
        message removed; other destinations untouched."""
        port = fixture.free_port()
        svc = services(port) + ["discard unix - - n - 2 discard"]
        inst = fixture.Instance("qmgr-discard", svc, mydestination="faxpost.test")
        table = os.path.join(inst.etc, "transport")
        with open(table, "w") as f:
            f.write("spam.example discard:dropped on purpose\n")
        self.assertEqual(inst.faxpost("map", table).returncode, 0)
        inst.write_main_cf(transport_maps=table, mynetworks="127.0.0.0/8")
        with inst:
            send(port, "alice@example.com", ["x@spam.example", "anna@faxpost.test"])
            m = inst.wait_log(r"to=<x@spam\.example>.*status=sent \(dropped on purpose\)")
            self.assertIn("relay=none", m.group(0))
            self.assertIn("dsn=2.0.0", m.group(0))
            inst.wait_log(r"to=<anna@faxpost\.test>.*status=sent \(delivered to maildir\)")
            inst.wait_log(r": removed")
            wait_until(lambda: not inst.queue_files("active") and not inst.queue_files("incoming")
                       and not inst.queue_files("deferred"), what="an empty queue")
            self.assertEqual(len(maildir_files(inst, "anna")), 1)


class LocalDiskFull(unittest.TestCase):
    @unittest.skipUnless(os.geteuid() == 0, "needs root (mounts a small tmpfs)")
    def test_full_disk_defers_then_delivers(self):
        """A mailbox file system that is full defers (4.3.1), never bounces; once
        there is room the retry delivers."""
        port = fixture.free_port()
        inst = fixture.Instance("local-full", services(port), mydestination="faxpost.test",
                                minimal_backoff_time="1s", maximal_backoff_time="1s",
                                queue_run_delay="1s")
        mnt = os.path.join(inst.dir, "mailfs")
        os.makedirs(mnt)
        r = fixture.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt])
        if r.returncode != 0:
            self.skipTest("cannot mount tmpfs: %s" % r.stderr)
        try:
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                try:
                    f.write(b"x" * (1 << 20))
                except OSError:
                    pass
            inst.write_main_cf(local_mailbox_base=mnt)
            with inst:
                send(port, "alice@example.com", ["anna@faxpost.test"],
                     body="Subject: big\r\n\r\n" + "y" * 20000 + "\r\n")
                inst.wait_log(r"to=<anna@faxpost\.test>.*dsn=4\.3\.1, status=deferred \(cannot write maildir .*No space left on device\)")
                self.assertFalse([l for l in inst.log_lines() if "status=bounced" in l])
                os.unlink(filler)
                inst.wait_log(r"to=<anna@faxpost\.test>.*status=sent \(delivered to maildir\)", timeout=15)
                files = os.listdir(os.path.join(mnt, "anna", "Maildir", "new"))
                self.assertEqual(len(files), 1)
                self.assertEqual(os.listdir(os.path.join(mnt, "anna", "Maildir", "tmp")), [])
        finally:
            fixture.run(["umount", "-l", mnt])


class QmgrRelayedDsn(unittest.TestCase):
    def test_notify_success_relayed_vs_passed_on(self):
        """NOTIFY=SUCCESS through a hop without DSN: we send a "relayed" DSN; through a
        hop with DSN the parameters go on and we send none."""
        port, sport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("qmgr-relayed", services(port), mydestination="faxpost.test",
                                relayhost="[127.0.0.1]:%d" % sport, smtp_tls_security_level="none",
                                smtp_connection_cache_time_limit="0s")
        spool = os.path.join(inst.dir, "sink")
        with inst:
            with sink(sport, spool, "-N"):     # no DSN announced
                send(port, "alice@faxpost.test", ["r1@remote.example"], rcpt_options=["NOTIFY=SUCCESS"])
                inst.wait_log(r"sender delivery status notification: \w+")
                files = wait_until(lambda: maildir_files(inst, "alice"), what="relayed DSN")
                text = open(files[0], "rb").read()
                self.assertIn(b"Action: relayed", text)
                self.assertIn(b"Final-Recipient: rfc822; r1@remote.example", text)
                got = wait_until(lambda: sink_files(spool), what="message at sink")
                self.assertNotIn(b"NOTIFY=", got[0])
            mark = inst.log_mark()
            with sink(sport, spool):            # DSN announced: passed on
                send(port, "alice@faxpost.test", ["r2@remote.example"], rcpt_options=["NOTIFY=SUCCESS"])
                inst.wait_log(r"to=<r2@remote\.example>.*status=sent", since=mark)
                inst.wait_log(r": removed", since=mark)
                got = wait_until(lambda: len(sink_files(spool)) == 2 and sink_files(spool), what="2nd message")
                self.assertTrue(any(b"<r2@remote.example> NOTIFY=SUCCESS" in g for g in got))
                time.sleep(0.3)
                self.assertEqual(len(maildir_files(inst, "alice")), 1)
                self.assertFalse([l for l in inst.log_lines()[mark:] if "delivery status notification" in l])


class QmgrLimits(unittest.TestCase):
    def test_active_limit_and_concurrency(self):
        """With room for 3 messages in the active queue and 2 deliveries per
        destination, 40 messages to 2 destinations still all arrive; the agents never
        see more than 2 connections per destination at once."""
        port, s1, s2 = fixture.free_port(), fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("qmgr-limits", services(port), mydestination="faxpost.test",
                                smtp_tls_security_level="none", qmgr_message_active_limit=3,
                                default_destination_concurrency_limit=2,
                                smtp_connection_cache_time_limit="0s")
        table = os.path.join(inst.etc, "transport")
        with open(table, "w") as f:
            f.write("one.example smtp:[127.0.0.1]:%d\ntwo.example smtp:[127.0.0.1]:%d\n" % (s1, s2))
        self.assertEqual(inst.faxpost("map", table).returncode, 0)
        inst.write_main_cf(transport_maps=table)
        sp1, sp2 = os.path.join(inst.dir, "s1"), os.path.join(inst.dir, "s2")
        with inst, sink(s1, sp1, "-w", "1"), sink(s2, sp2):
            t0 = time.monotonic()
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
                for i in range(40):
                    s.sendmail("alice@faxpost.test",
                               ["r%d@%s.example" % (i, "one" if i % 2 else "two")],
                               "Subject: %d\r\n\r\nx\r\n" % i)
            wait_until(lambda: len(sink_files(sp1)) == 20 and len(sink_files(sp2)) == 20,
                       timeout=40, what="40 messages at the two sinks")
            # sink 1 answers DATA after 1s: 20 messages at 2 at a time take >= 10s
            # (3 at a time, the active limit, would be under 7s)
            self.assertGreaterEqual(time.monotonic() - t0, 9.5)
            wait_until(lambda: not any(inst.queue_files(q) for q in ("incoming", "active", "deferred")),
                       what="empty queue")
            self.assertEqual(len([l for l in inst.log_lines() if "status=sent" in l]), 40)


class QmgrAliases(unittest.TestCase):
    def test_address_book_alias_expansion_and_transport_table(self):
        """The address book turns a short name into a FAX= address (fax transport);
        an alias with several members is forwarded in a new queue file; the
        transport table sends one domain to a given next hop."""
        port, sport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("qmgr-alias", services(port), mydestination="faxpost.test",
                                fax_domains="fax.faxpost.test", smtp_tls_security_level="none",
                                minimal_backoff_time="1h", maximal_backoff_time="1h")
        files = {
            "aliases": "team anna, bob\npostmaster anna\nloop1 loop2\nloop2 loop1\n",
            "book": "chef FAX=+4930111@fax.faxpost.test\n",
            "transport": "special.example smtp:[127.0.0.1]:%d\n" % sport,
        }
        for name, text in files.items():
            path = os.path.join(inst.etc, name)
            with open(path, "w") as f:
                f.write(text)
            r = inst.faxpost("map", path)
            self.assertEqual(r.returncode, 0, r.stderr)
        inst.write_main_cf(alias_maps=os.path.join(inst.etc, "aliases"),
                           address_book_maps=os.path.join(inst.etc, "book"),
                           transport_maps=os.path.join(inst.etc, "transport"))
        spool = os.path.join(inst.dir, "sink")
        with inst, sink(sport, spool):
            send(port, "carl@example.com", ["team@faxpost.test"])
            m = inst.wait_log(r"to=<team@faxpost\.test>.*status=sent \(forwarded as (\w+)\)")
            newid = m.group(1)
            inst.wait_log(newid + r": to=<anna@faxpost\.test>.*status=sent")
            inst.wait_log(newid + r": to=<bob@faxpost\.test>.*status=sent")
            self.assertEqual(len(maildir_files(inst, "anna")), 1)
            self.assertEqual(len(maildir_files(inst, "bob")), 1)
            # NOTIFY=SUCCESS on an expanded alias: one "expanded" DSN, none per member
            mark = inst.log_mark()
            send(port, "anna@faxpost.test", ["team@faxpost.test"], rcpt_options=["NOTIFY=SUCCESS"])
            m = inst.wait_log(r"to=<team@faxpost\.test>.*status=sent \(forwarded as (\w+)\)", since=mark)
            inst.wait_log(m.group(1) + r": removed", since=mark)
            inst.wait_log(r"sender delivery status notification", since=mark)
            dsns = wait_until(lambda: [f for f in maildir_files(inst, "anna")
                                       if b"delivery-status" in open(f, "rb").read()], what="expanded DSN")
            time.sleep(0.3)
            self.assertEqual(len(dsns), 1)
            self.assertIn(b"Action: expanded", open(dsns[0], "rb").read())
            # 1:1 rewrite: postmaster -> anna, logged with orig_to
            send(port, "carl@example.com", ["postmaster@faxpost.test"])
            inst.wait_log(r"to=<anna@faxpost\.test>, orig_to=<postmaster@faxpost\.test>.*status=sent")
            # address book: chef -> FAX= (no faxd here: deferred 4.4.1)
            send(port, "carl@example.com", ["chef@faxpost.test"])
            inst.wait_log(r"to=<FAX=\+4930111@fax\.faxpost\.test>, orig_to=<chef@faxpost\.test>.*dsn=4\.4\.1, status=deferred \(fax service not available\)")
            # alias loop: bounced 5.4.6
            send(port, "carl@example.com", ["loop1@faxpost.test"])
            inst.wait_log(r"to=<loop1@faxpost\.test>.*dsn=5\.4\.6, status=bounced")
            # transport table: special.example goes to the sink, not by MX
            send(port, "carl@example.com", ["x@special.example"])
            inst.wait_log(r"to=<x@special\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent" % sport)
            wait_until(lambda: sink_files(spool), what="message at the sink")


class QmgrSink(unittest.TestCase):
    def test_relay_4xx_then_2xx_and_5xx_bounce(self):
        port, sport = fixture.free_port(), fixture.free_port()
        inst = fixture.Instance("qmgr-sink", services(port),
                                relayhost="[127.0.0.1]:%d" % sport,
                                mydestination="faxpost.test",
                                smtp_tls_security_level="none",
                                minimal_backoff_time="1s", maximal_backoff_time="2s",
                                queue_run_delay="1s")
        spool = os.path.join(inst.dir, "sink")
        with inst:
            # 1. every RCPT gets 450: deferred, listed with its reason
            with sink(sport, spool, "-r", "RCPT"):
                send(port, "alice@faxpost.test", ["carol@remote.example"],
                     mail_options=["ENVID=env42"], rcpt_options=["NOTIFY=FAILURE,DELAY"])
                m = inst.wait_log(r"to=<carol@remote\.example>.*status=deferred \((.*)\)")
                self.assertIn("450", m.group(1))
                self.assertIn("in reply to RCPT TO command", m.group(1))
                wait_until(lambda: inst.queue_files("deferred"), what="a deferred file")
                r = inst.faxpost("queue", "-j")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn('"queue_name": "deferred"', r.stdout)
                self.assertIn('"address": "carol@remote.example", "delay_reason": "host 127.0.0.1', r.stdout)
                r = inst.faxpost("queue")
                self.assertIn("carol@remote.example", r.stdout)
                self.assertRegex(r.stdout, r"-- \d+ Kbytes in 1 Request\.")
            # 2. a sink that accepts: the retry delivers it, DSN parameters passed on
            mark = inst.log_mark()
            with sink(sport, spool):
                inst.wait_log(r"to=<carol@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*dsn=2\.0\.0, status=sent" % sport,
                              timeout=20, since=mark)
                inst.wait_log(r": removed", since=mark)
                got = wait_until(lambda: sink_files(spool), what="the message at the sink")
                self.assertEqual(len(got), 1)
                self.assertIn(b"X-Rcpt-Args: <carol@remote.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;carol@remote.example", got[0])
                self.assertIn(b"ENVID=env42", got[0])
                self.assertIn(b"hello", got[0])
            # 3. 5xx at RCPT: bounced, the DSN goes to the local sender's Maildir
            mark = inst.log_mark()
            with sink(sport, spool, "-f", "RCPT"):
                send(port, "alice@faxpost.test", ["dave@remote.example"])
                inst.wait_log(r"to=<dave@remote\.example>.*dsn=5\.\d\.\d, status=bounced", since=mark)
                inst.wait_log(r"sender non-delivery notification", since=mark)
                files = wait_until(lambda: maildir_files(inst, "alice"), what="the DSN for alice")
                with open(files[0], "rb") as f:
                    dsn = f.read()
                self.assertIn(b"Final-Recipient: rfc822; dave@remote.example", dsn)
                self.assertIn(b"Action: failed", dsn)
                self.assertIn(b"Diagnostic-Code: smtp; 500", dsn)
            wait_until(lambda: not any(inst.queue_files(s) for s in ("incoming", "active", "deferred")),
                       what="an empty queue")


class QmgrNotices(unittest.TestCase):
    def test_fax_without_faxd_defers_then_delay_notice_and_expiry(self):
        """FAX= recipients go to the fax service; while it is absent they are deferred
        with 4.4.1, the sender gets one delay notice, and after
        maximal_queue_lifetime the message bounces (5.4.7)."""
        port = fixture.free_port()
        inst = fixture.Instance("qmgr-fax", services(port),
                                mydestination="faxpost.test", fax_domains="fax.faxpost.test",
                                minimal_backoff_time="1s", maximal_backoff_time="1s",
                                queue_run_delay="1s", delay_warning_time="2s",
                                maximal_queue_lifetime="5s")
        with inst:
            send(port, "alice@faxpost.test", ["FAX=+4930123456@fax.faxpost.test"],
                 rcpt_options=["NOTIFY=FAILURE,DELAY"])
            m = inst.wait_log(r"(\w+): to=<FAX=\+4930123456@fax\.faxpost\.test>, relay=none.*dsn=4\.4\.1, status=deferred \(fax service not available\)")
            qid = m.group(1)
            r = inst.faxpost("queue")
            self.assertIn("(fax service not available)", r.stdout)
            self.assertIn(qid, r.stdout)
            inst.wait_log(qid + r": sender delay notification: \w+", timeout=15)
            inst.wait_log(qid + r": from=<alice@faxpost\.test>, status=expired, returned to sender", timeout=20)
            inst.wait_log(qid + r": sender non-delivery notification: \w+")
            inst.wait_log(qid + r": removed")
            notes = wait_until(lambda: len(maildir_files(inst, "alice")) >= 2 and maildir_files(inst, "alice"),
                               what="two notices for alice")
            texts = [open(f, "rb").read() for f in notes]
            delay = [t for t in texts if b"Action: delayed" in t]
            failed = [t for t in texts if b"Action: failed" in t]
            self.assertEqual(len(delay), 1)
            self.assertEqual(len(failed), 1)
            self.assertIn(b"Status: 4.4.1", delay[0])
            self.assertIn(b"Will-Retry-Until:", delay[0])
            self.assertIn(b"Status: 5.4.7", failed[0])
            self.assertIn(b"text/rfc822-headers", delay[0])
            self.assertIn(b"message/rfc822", failed[0])
            # exactly one delay notice over several retries
            self.assertEqual(len([l for l in inst.log_lines() if "delay notification" in l]), 1)

    def test_success_notice_and_null_sender_never_bounced(self):
        port = fixture.free_port()
        inst = fixture.Instance("qmgr-dsn", services(port), mydestination="faxpost.test")
        table = os.path.join(inst.etc, "mailboxes")
        with open(table, "w") as f:
            f.write("alice alice/Maildir/\nbob bob/Maildir/\n")
        self.assertEqual(inst.faxpost("map", table).returncode, 0)
        inst.write_main_cf(local_mailbox_maps=table, error_notice_recipient="bob@faxpost.test")
        with inst:
            # NOTIFY=SUCCESS: a "delivered" DSN to the sender, with ENVID and ORCPT
            send(port, "alice@faxpost.test", ["alice@faxpost.test"],
                 mail_options=["ENVID=abc123", "RET=HDRS"],
                 rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;Alice@FaxPost.test"])
            inst.wait_log(r"sender delivery status notification: \w+")
            files = wait_until(lambda: len(maildir_files(inst, "alice")) == 2 and maildir_files(inst, "alice"),
                               what="message and success DSN")
            dsn = [open(f, "rb").read() for f in files if b"delivery-status" in open(f, "rb").read()][0]
            self.assertIn(b"Action: delivered", dsn)
            self.assertIn(b"Original-Envelope-Id: abc123", dsn)
            self.assertIn(b"Original-Recipient: rfc822;Alice@FaxPost.test", dsn)
            self.assertIn(b"Subject: Successful Mail Delivery Report", dsn)
            # a bounce of a bounce: null sender, unknown user -> no DSN to <>, but the
            # copy goes to error_notice_recipient
            mark = inst.log_mark()
            send(port, "", ["nobody@faxpost.test"])
            inst.wait_log(r"to=<nobody@faxpost\.test>.*status=bounced", since=mark)
            inst.wait_log(r"removed", since=mark)
            copies = wait_until(lambda: maildir_files(inst, "bob"), what="postmaster copy")
            self.assertEqual(len(copies), 1)
            self.assertIn(b"Final-Recipient: rfc822; nobody@faxpost.test", open(copies[0], "rb").read())
            time.sleep(0.5)
            self.assertEqual(len(maildir_files(inst, "alice")), 2)


if __name__ == "__main__":
    unittest.main()
