"""test_logsumm.py: `faxpost logsumm` on a real instance's log and on a canned log."""
import os
import smtplib
import unittest

import fixture

CANNED = """\
Nov 22 09:00:01 gw faxpost/smtpd[10]: connect from client.example[192.0.2.1]
Nov 22 09:00:01 gw faxpost/smtpd[10]: 0A1B2C3D4E5F: client=client.example[192.0.2.1]
Nov 22 09:00:01 gw faxpost/smtpd[10]: 0A1B2C3D4E5F: from=<alice@example.org>, size=2048, nrcpt=2 (queue active)
Nov 22 09:00:01 gw faxpost/qmgr[11]: 0A1B2C3D4E5F: from=<alice@example.org>, size=2048, nrcpt=2 (queue active)
Nov 22 09:00:02 gw faxpost/qmgr[11]: 0A1B2C3D4E5F: to=<bob@faxgw.example>, relay=local, delay=0.5, delays=0.1/0/0/0.4, dsn=2.0.0, status=sent (delivered to maildir)
Nov 22 09:00:40 gw faxpost/qmgr[11]: 0A1B2C3D4E5F: to=<FAX=+4930123456@faxgw.example>, relay=fax[ttyV0], delay=39, pages=3/3, speed=14400, coding=MMR, ecm=yes, remote="+49 30 123456", duration=38.2, dsn=2.0.0, status=sent (fax sent)
Nov 22 10:15:00 gw faxpost/smtpd[10]: 0A1B2C3D4E60: client=client.example[192.0.2.1]
Nov 22 10:15:00 gw faxpost/smtpd[10]: 0A1B2C3D4E60: from=<carol@example.org>, size=1000, nrcpt=1 (queue active)
Nov 22 10:15:05 gw faxpost/qmgr[11]: 0A1B2C3D4E60: to=<dave@remote.example>, relay=mx.remote.example[198.51.100.7]:25, delay=5, delays=0/0/5/0, dsn=4.4.1, status=deferred (connect to mx.remote.example: Connection refused)
Nov 22 10:20:05 gw faxpost/qmgr[11]: 0A1B2C3D4E60: to=<dave@remote.example>, relay=mx.remote.example[198.51.100.7]:25, delay=305, delays=0/0/5/0, dsn=5.1.1, status=bounced (550 5.1.1 no such user)
Nov 22 10:30:00 gw faxpost/smtpd[10]: NOQUEUE: reject: RCPT from client.example[192.0.2.1]: 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<spam@example.net> to=<x@elsewhere.example> proto=ESMTP helo=<x>
Nov 22 10:30:01 gw faxpost/smtpd[10]: NOQUEUE: reject: RCPT from client.example[192.0.2.1]: 554 5.7.1 <y@elsewhere.example>: Relay access denied; from=<spam@example.net> to=<y@elsewhere.example> proto=ESMTP helo=<x>
Nov 22 11:00:00 gw faxpost/faxd[12]: 0A1B2C3D4E61: from=<fax>, relay=fax[ttyV1], pages=2, speed=9600, coding=MH, ecm=no, remote="+1 555 0100", duration=30.1, status=received
Nov 22 11:00:01 gw faxpost/smtpd[10]: warning: hostile client: line too long
garbage line that is not a log line
"""


class TestLogsumm(unittest.TestCase):
    def test_canned_log(self):
        inst = fixture.Instance("logsumm-canned")
        path = os.path.join(inst.dir, "canned.log")
        with open(path, "w") as f:
            f.write(CANNED)
        r = inst.faxpost("logsumm", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertRegex(out, r"\n\s+2   received\n")
        self.assertRegex(out, r"\n\s+2   delivered\n")
        self.assertRegex(out, r"\n\s+1   deferred  \(1 deferrals\)\n")
        self.assertRegex(out, r"\n\s+1   bounced\n")
        self.assertRegex(out, r"\n\s+2   rejected \(50%\)\n")
        self.assertRegex(out, r"\n\s+3048   bytes received\n")
        self.assertRegex(out, r"\n\s+1   faxes sent \(3 pages\)\n")
        self.assertRegex(out, r"\n\s+1   faxes received \(2 pages\)\n")
        self.assertRegex(out, r"0900-1000\s+1\s+2")
        self.assertRegex(out, r"\n\s+2   554 5.7.1 <>: Relay access denied\n")
        self.assertRegex(out, r"\n\s+1   smtpd: hostile client: line too long\n")
        self.assertRegex(out, r"\n\s+1   alice@example.org\n")
        # -d selects one day: the canned lines are all of Nov 22, not "today" unless it is
        r = inst.faxpost("logsumm", "-x")
        self.assertEqual(r.returncode, 2)
        r = inst.faxpost("logsumm", "/nonexistent/log")
        self.assertEqual(r.returncode, 1)

    def test_live_instance(self):
        port = fixture.free_port()
        inst = fixture.Instance("logsumm-live", services=[
            "127.0.0.1:%d inet n - n - 1 smtpd" % port], mydestination="faxpost.test",
            mynetworks="192.0.2.0/24")
        with inst:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
                for i in range(3):
                    c.sendmail("sender%d@example.org" % i, ["user@faxpost.test"],
                               "Subject: %d\r\n\r\nbody\r\n" % i)
                with self.assertRaises(smtplib.SMTPRecipientsRefused):
                    c.sendmail("spammer@example.net", ["victim@elsewhere.example"], "x")
            inst.wait_log(r"NOQUEUE: reject: RCPT")
        r = inst.faxpost("logsumm")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\n\s+3   received\n")
        self.assertRegex(r.stdout, r"\n\s+1   rejected \(25%\)\n")
        self.assertRegex(r.stdout, r"Relay access denied")


if __name__ == "__main__":
    unittest.main()
