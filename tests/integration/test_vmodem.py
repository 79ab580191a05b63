"""test_vmodem.py: the virtual telephone line (tests/vmodem): exchange behaviour and
the virtual fax machines (efax interop is in test_vmodem_efax.py).

efax (Debian) on the Class 1 lines, the built-in virtual fax machine (spandsp T.30),
and raw AT sessions for busy / no answer / caller ID / hang-up. Every transfer compares
the decoded bitmaps of the pages received with the pages sent. Each test starts its own
vmodem and stops every process by pid.
"""
import os
import shutil
import subprocess
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

EFAX = shutil.which("efax")
HEADER_LINES = 20          # efax always sends a 20-line header band (blank with -h "")


def workdir(name):
    d = os.path.join(fixture.BUILD, "itest", "vmodem-%s-%d" % (name, os.getpid()))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


class VModemCase(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(vmodem.VMODEM):
            self.skipTest("vmodem not built (make vmodem)")
        self.dir = workdir(self.id().rsplit(".", 1)[-1])
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.stop()

    def vm(self, **kw):
        v = vmodem.VModem(self.dir, build=fixture.BUILD, **kw)
        v.start()
        self.procs.append(v)
        return v

    def proc(self, cmd, name):
        p = fixture.Proc(cmd, name=name, out_dir=self.dir)
        self.procs.append(p)
        return p

    def efax_send(self, link, number, pbm, ident="+1 555 1001", timeout=50):
        t0 = time.monotonic()
        r = fixture.run([EFAX, "-d", link, "-o1", "-l", ident, "-h", "", "-t", number, pbm],
                        timeout=timeout)
        return r, time.monotonic() - t0

    def efax_receiver(self, link, prefix):
        return self.proc([EFAX, "-d", link, "-o1", "-w", "-iS0=1", "-i+VCID=1",
                          "-v", "ewinchamr", "-r", prefix], "efax-rx")

    def assert_efax_page(self, received_rows, sent_rows):
        """efax puts a (blank) header band on top of the page it sends."""
        self.assertEqual(len(received_rows), HEADER_LINES + len(sent_rows))
        self.assertFalse(any(any(r) for r in received_rows[:HEADER_LINES]),
                         "header band not blank")
        bad = [i for i, r in enumerate(sent_rows) if received_rows[HEADER_LINES + i] != r]
        self.assertEqual(bad, [], "rows differ: %s" % bad[:10])


class TestExchange(VModemCase):
    def test_ring_caller_id_answer_and_hangup(self):
        v = self.vm(lines={"ttyA": "5551001,Alice", "ttyB": "5551002"}, args=["-r", "1000"])
        a, b = vmodem.Dte(v.link("ttyA")), vmodem.Dte(v.link("ttyB"))
        try:
            b.command("AT+FCLASS=1")
            b.command("AT+VCID=1")
            a.command("AT+FCLASS=1")
            a.send("ATD5551002")
            text = b.expect(r"RING", timeout=5)
            self.assertIn("NMBR=5551001", text)
            self.assertIn("NAME=Alice", text)
            self.assertIn("NDID=5551002", text)
            b.expect(r"RING", timeout=3)                     # cadence: 1 s here
            b.send("ATA")
            b.expect(r"CONNECT", timeout=10)                 # answering modem sends CED, V.21
            a.expect(r"CONNECT", timeout=10)                 # caller hears the V.21 flags
            # The caller's DTE closes the port (DTR drop): the far end gets NO CARRIER.
            a.close()
            t0 = time.monotonic()
            b.expect(r"NO CARRIER", timeout=10)
            self.assertLess(time.monotonic() - t0, 5)
            status = "\n".join(v.cmd("status"))
            self.assertIn("ttyA 5551001 onhook", status)
            self.assertIn("ttyB 5551002 onhook", status)
        finally:
            a.close()
            b.close()

    def test_no_answer(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"}, args=["-a", "4000"])
        a, b = vmodem.Dte(v.link("ttyA")), vmodem.Dte(v.link("ttyB"))
        try:
            a.command("AT+FCLASS=1")
            t0 = time.monotonic()
            a.send("ATD5551002")
            b.expect("RING", timeout=5)
            a.expect(r"NO CARRIER", timeout=10)
            self.assertGreater(time.monotonic() - t0, 3.5)
            # The line is free again: a new call rings.
            a.send("ATD5551002")
            b.expect("RING", timeout=5)
        finally:
            a.close()
            b.close()

    def test_no_answer_result_no_answer(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"}, args=["-a", "2000", "-A"])
        a = vmodem.Dte(v.link("ttyA"))
        try:
            a.send("ATD5551002")
            a.expect(r"NO ANSWER", timeout=8)
        finally:
            a.close()

    def test_busy_and_unknown_number(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        a, b = vmodem.Dte(v.link("ttyA")), vmodem.Dte(v.link("ttyB"))
        try:
            b.command("ATH1")
            a.send("ATDT555-1002")
            a.expect(r"BUSY", timeout=5)
            b.command("ATH0")
            a.send("ATD999")
            a.expect(r"NO CARRIER", timeout=5)
            a.send("ATD5551002")                         # now it rings
            b.expect(r"RING", timeout=5)
            self.assertIn("ttyB 5551002 ringing", "\n".join(v.cmd("status")))
            b.command("ATH0")                               # modem reset while ringing ...
            b.expect(r"RING", timeout=8)                     # ... does not reject the call
        finally:
            a.close()
            b.close()

    def test_dtr_drop_while_dialling_abandons_the_call(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"}, args=["-r", "1000"])
        a, b = vmodem.Dte(v.link("ttyA")), vmodem.Dte(v.link("ttyB"))
        try:
            a.send("ATD5551002")
            b.expect("RING", timeout=5)
            a.close()                                   # the caller's DTE goes away
            deadline = time.monotonic() + 5
            while "abandoned" not in v.log() and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertIn("ttyA abandoned the call", v.log())
            self.assertIn("ttyB 5551002 onhook", "\n".join(v.cmd("status")))
        finally:
            a.close()
            b.close()

    def test_line_down_no_dialtone(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        a = vmodem.Dte(v.link("ttyA"))
        try:
            v.cmd("down 5551001")
            a.send("ATD5551002")
            a.expect(r"NO DIALTONE", timeout=5)
            v.cmd("up 5551001")
            v.cmd("down 5551002")
            a.send("ATD5551002")
            a.expect(r"NO CARRIER", timeout=5)
        finally:
            a.close()

    def test_control_errors(self):
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {}})
        with self.assertRaises(RuntimeError):
            v.cmd("call ttyA /nonexistent.tif")
        with self.assertRaises(RuntimeError):
            v.cmd("frobnicate")
        self.assertIn("fax 5559999 idle", "\n".join(v.cmd("status")))

    def test_sigterm_cleans_up(self):
        v = self.vm(lines={"ttyA": "5551001"})
        self.assertTrue(os.path.islink(v.link("ttyA")))
        self.assertEqual(v.stop(), 0)
        self.assertFalse(os.path.lexists(v.link("ttyA")))
        self.assertFalse(os.path.exists(v.sock))

    def test_config_file_and_exec(self):
        conf = os.path.join(self.dir, "vmodem.cf")
        raw = os.path.join(self.dir, "raw.tif")
        vmodem.make_page(raw, height=50)
        rx = os.path.join(self.dir, "faxin")
        os.makedirs(rx)
        with open(conf, "w") as f:
            f.write("# a small exchange\n"
                    "delay 100\n"
                    "ring 2000   # ring cadence\n"
                    "answer_timeout 6000\n"
                    "no_answer_result NO ANSWER\n"
                    "line %s/ttyC 5552001 Carol Smith\n"
                    "fax 5559999 %s ecm rings=2 id=+1 555 9999\n"
                    "control %s/vm.sock\n"
                    "pid_file %s/vm.pid\n"
                    "exec @1 call 5550000 %s\n" % (self.dir, rx, self.dir, self.dir, raw))
        p = self.proc([vmodem.VMODEM, "-c", conf], "vmodem-cf")
        deadline = time.monotonic() + 10
        while "ready pid=%d" % p.pid not in p.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = p.output()
        self.assertIn("delay 100 ms", out)
        self.assertIn("ring every 2000 ms, no answer after 6000 ms", out)
        self.assertIn('ident "+1 555 9999", answers after 2 ring(s), ECM', out)
        with open(os.path.join(self.dir, "vm.pid")) as f:
            self.assertEqual(int(f.read()), p.pid)
        # The exec'd call to a number nobody has: the machine records "no carrier".
        deadline = time.monotonic() + 10
        while 'remote="no carrier"' not in p.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("exec 'call 5550000", p.output())
        self.assertIn("no such number", p.output())
        self.assertIn('remote="no carrier"', p.output())
        # The line from the file works: it reaches the machine, which answers after 2 rings.
        c = vmodem.Dte(os.path.join(self.dir, "ttyC"))
        try:
            c.command("ATE0")
            c.command("AT+FCLASS=1")
            c.send("ATD5559999")
            c.expect("CONNECT", timeout=15)     # the machine answers after 2 rings
        finally:
            c.close()
        self.assertEqual(p.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "vm.pid")))

    def test_bad_config_file(self):
        conf = os.path.join(self.dir, "bad.cf")
        with open(conf, "w") as f:
            f.write("delay 80\nfrobnicate 1\n")
        r = fixture.run([vmodem.VMODEM, "-c", conf])
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.cf:2: bad line", r.stderr)

    def test_bad_usage(self):
        r = fixture.run([vmodem.VMODEM, "-d", "nonsense", "-l", "x=1"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad argument", r.stderr)


class TestVirtualFaxMachines(VModemCase):
    def test_fax_machine_to_fax_machine_ecm_two_pages(self):
        v = self.vm(faxes={"5559001": {"id": "SENDER"}, "5559002": {"ecm": True, "id": "RECEIVER"}})
        pages_in = []
        files = []
        for i in range(2):
            raw = os.path.join(self.dir, "raw%d.tif" % i)
            pages_in.append(vmodem.make_page(raw, height=600, seed=10 + i))
            files.append(raw)
        both = os.path.join(self.dir, "two.tif")
        subprocess.run(["tiffcp", "-c", "g4"] + files + [both], check=True)
        v.call("5559002", both, ecm=True, sender="5559001")
        rec = v.wait_record("received", 1, timeout=55)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (2, 0, 1), rec)
        self.assertEqual(rec["remote"], "SENDER")
        got = vmodem.read_pages(rec["file"])
        self.assertEqual([p[2] for p in got], pages_in)
        sent = v.wait_record("sent", 1, timeout=10)[0]
        self.assertEqual((sent["pages"], sent["code"], sent["remote"]), (2, 0, "RECEIVER"))
        print("  fax machine -> fax machine, ECM, 2 pages: %.1f s" % rec["secs"])

    def test_subaddress_mh_and_speed(self):
        v = self.vm(faxes={"5559001": {}, "5559002": {"speed": 9600, "id": "SLOW"}})
        raw = os.path.join(self.dir, "raw.tif")
        rows = vmodem.make_page(raw, height=300, seed=12)
        v.call("5559002", raw, sender="5559001", mh=True, sub="4711")
        rec = v.wait_record("received", 1, timeout=55)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["rate"], rec["coding"], rec["sub"]),
                         (1, 0, 9600, "MH", "4711"), rec)
        self.assertEqual(vmodem.read_pages(rec["file"])[0][2], rows)
        sent = v.wait_record("sent", 1, timeout=10)[0]
        self.assertEqual((sent["sub"], sent["remote"], sent["coding"]), ("4711", "SLOW", "MH"))

    def test_fax_machine_busy_and_no_answer(self):
        v = self.vm(lines={"ttyB": "5551002"}, faxes={"5559001": {}}, args=["-a", "3000"])
        raw = os.path.join(self.dir, "raw.tif")
        vmodem.make_page(raw, height=100)
        b = vmodem.Dte(v.link("ttyB"))
        try:
            b.command("ATH1")
            v.call("ttyB", raw)
            rec = v.wait_record("sent", 1, timeout=10)[-1]
            self.assertEqual((rec["code"], rec["remote"]), (-1, "busy"))
            b.command("ATH0")
            v.call("5551002", raw)
            b.expect("RING", timeout=5)
            rec = v.wait_record("sent", 2, timeout=10)[-1]
            self.assertEqual((rec["code"], rec["remote"]), (-1, "no_answer"))
        finally:
            b.close()


if __name__ == "__main__":
    unittest.main()
