"""local delivers to Maildir mailboxes that Dovecot serves: a message sent to
user@faxpost.test is fetched over POP3 from a private Dovecot, unchanged."""
import os
import poplib
import pwd
import shutil
import unittest

import fixture
from test_qmgr import send, services, wait_until


class LocalDovecot(unittest.TestCase):
    @unittest.skipUnless(shutil.which("dovecot") and os.geteuid() == 0, "needs dovecot and root")
    def test_pop3_reads_our_maildir(self):
        from dovecot_peer import Dovecot
        port = fixture.free_port()
        inst = fixture.Instance("local-dovecot", services(port), mydestination="faxpost.test")
        dv = Dovecot(os.path.join(inst.dir, "dovecot"), users={"fax": "secret"})
        # the mailboxes belong to the user Dovecot runs mail processes as ("mail"),
        # so the faxpost daemons run as that user too
        mail = pwd.getpwnam("mail")
        for root, dirs, files in os.walk(inst.dir):
            for n in dirs + files:
                os.chown(os.path.join(root, n), mail.pw_uid, mail.pw_gid)
        os.chown(inst.dir, mail.pw_uid, mail.pw_gid)
        table = os.path.join(inst.etc, "mailboxes")
        with open(table, "w") as f:
            f.write("fax fax/\n")
        self.assertEqual(inst.faxpost("map", table).returncode, 0)
        inst.write_main_cf(mail_owner="mail", local_mailbox_base=os.path.join(dv.dir, "mail"),
                           local_mailbox_maps=table)
        body = ("Subject: to dovecot\r\nMessage-ID: <dv1@client.test>\r\n\r\n"
                "first line\r\n.leading dot\r\n\r\nlast line\r\n")
        with dv, inst:
            send(port, "alice@example.com", ["fax@faxpost.test"], body=body)
            inst.wait_log(r"to=<fax@faxpost\.test>.*status=sent \(delivered to maildir\)")
            p = poplib.POP3("127.0.0.1", dv.pop3_port, timeout=10)
            try:
                p.user("fax")
                p.pass_("secret")
                count, _ = p.stat()
                self.assertEqual(count, 1)
                resp, lines, _ = p.retr(1)
                text = b"\r\n".join(lines)
            finally:
                p.quit()
            self.assertIn(b"Return-Path: <alice@example.com>", text)
            self.assertIn(b"Delivered-To: fax@faxpost.test", text)
            self.assertIn(b"Message-ID: <dv1@client.test>", text)
            self.assertIn(b"first line\r\n.leading dot\r\n\r\nlast line", text)
            self.assertNotIn(b"dovecot: Error", dv.log().encode() if hasattr(dv, "log") else b"")


if __name__ == "__main__":
    unittest.main()
