"""test_faxd_e2e.py: faxd as a daemon under master, with hwd owning the modem lines.

Offramp: `faxpost scan --to FAX=+15559999@faxpost.test` queues a page; qmgr hands it to
faxd (IPC_DELIVER); faxd leases hwd's line (IPC_LINE_REQUEST op=dial) and calls the
virtual fax machine. Onramp: the virtual fax machine calls hwd's line; hwd answers and
hands the call to faxd (op=receive); faxd queues the fax as mail; qmgr and local deliver
it to the maildir of the recipient chosen by fax_routes. Pages are compared bit for bit.
"""
import base64
import glob
import os
import re
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

DAEMONS = ("master", "qmgr", "faxd", "codecd", "hwd", "local")
SERVICES = ["qmgr unix-dgram n - n 300 1 qmgr", "fax unix - - n - 2 faxd",
            "codecd unix - - n - 2 codecd", "hwd unix - - n - 1 hwd",
            "local unix - - n - 2 local"]


@unittest.skipUnless(all(os.path.exists(os.path.join(fixture.LIBEXEC, d)) for d in DAEMONS)
                     and os.path.exists(vmodem.VMODEM), "a daemon or vmodem is not built")
class TestFaxdDaemon(unittest.TestCase):
    def setUp(self):
        self.inst = fixture.Instance("faxd-e2e")
        self.lock = os.path.join(self.inst.data, "lock")
        os.makedirs(self.lock)
        self.vm = None

    def tearDown(self):
        self.inst.stop()
        if self.vm:
            self.vm.stop()

    def start_vm(self, **kw):
        self.vm = vmodem.VModem(os.path.join(self.inst.dir, "vm"), build=fixture.BUILD, **kw)
        self.vm.start()
        return self.vm

    def test_offramp_through_hwd_line(self):
        vm = self.start_vm(lines={"ttyA": "5551001"},
                           faxes={"5559999": {"ecm": True, "id": "REMOTE"}})
        folder = os.path.join(self.inst.data, "scan")
        os.makedirs(folder)
        rows = vmodem.make_page(os.path.join(folder, "p1.tif"), height=500, seed=21)
        self.inst.write_main_cf(
            fax_station_id="+1 555 1001", hw_modem_lines="%s=+15551001" % vm.link("ttyA"),
            hw_country_code="1", hw_national_prefix="",     # +1 555 9999 dials 5559999
            hw_modem_lock_directory=self.lock, hw_modem_flow_control="none",
            hw_receive_service="", hw_scan_backend="folder", hw_scan_folder=folder)
        self.inst.write_master_cf(SERVICES)
        self.inst.start()
        self.inst.wait_log(r"ttyA: modem ready", timeout=20)
        r = self.inst.faxpost("scan", "--to", "FAX=+15559999@faxpost.test")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        qid = r.stdout.split()[2]
        rec = vm.wait_record("received", 1, timeout=55)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (1, 0, 1), rec)
        w, h, got = vmodem.read_pages(rec["file"])[0]
        self.assertEqual(got, rows)
        self.inst.wait_log(qid + r": to=<FAX=\+15559999@faxpost.test>, relay=fax\[ttyA\], "
                                 r"delay=[\d.]+, pages=1/1, speed=14400, coding=MMR, ecm=yes, "
                                 r"remote=\"REMOTE\", duration=[\d.]+, dsn=2\.0\.0, status=sent",
                           timeout=15)
        self.inst.wait_log(r"ttyA: line leased to dial \+15559999 as 5559999", timeout=1)

    def test_onramp_through_hwd_answer(self):
        vm = self.start_vm(lines={"ttyB": "5551002"},
                           faxes={"5559999": {"ecm": True, "id": "+1 555 9999"}})
        routes = os.path.join(self.inst.etc, "fax_routes")
        with open(routes, "w") as f:
            f.write("tsi:+15559999 faxuser@faxpost.test\n")
        r = self.inst.faxpost("map", routes)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.inst.write_main_cf(
            fax_station_id="+1 555 1002", fax_routes="fax_routes",
            fax_default_recipient="nobody@faxpost.test",
            hw_modem_lines="%s=+15551002" % vm.link("ttyB"),
            hw_modem_lock_directory=self.lock, hw_modem_flow_control="none",
            hw_receive_service="fax")
        self.inst.write_master_cf(SERVICES)
        self.inst.start()
        self.inst.wait_log(r"ttyB: modem ready", timeout=20)
        raw = os.path.join(self.inst.dir, "page.tif")
        rows = vmodem.make_page(raw, height=500, seed=22)
        vm.call("ttyB", raw, ecm=True)
        box = os.path.join(self.inst.data, "mail", "faxuser", "Maildir", "new")
        deadline = time.monotonic() + 55
        files = []
        while time.monotonic() < deadline and not files:
            files = glob.glob(os.path.join(box, "*"))
            time.sleep(0.2)
        self.assertTrue(files, "no mail for faxuser:\n" + "".join(self.inst.log_lines()[-40:]))
        with open(files[0], "rb") as f:
            mail = f.read()
        self.assertIn(b"From: \"FAX +1 555 9999\" <FAX=+15559999@faxpost.test>", mail)
        self.assertIn(b"Content-Type: image/tiff; application=faxbw", mail)
        m = re.search(rb"filename=\"fax.tif\"\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n--", mail)
        self.assertIsNotNone(m)
        tif = os.path.join(self.inst.dir, "got.tif")
        with open(tif, "wb") as f:
            f.write(base64.b64decode(m.group(1)))
        w, h, got = vmodem.read_pages(tif)[0]
        self.assertEqual((w, h), (1728, 500))
        self.assertEqual(got, rows)
        log = "".join(self.inst.log_lines())
        self.assertRegex(log, r"from=<FAX=\+15559999@faxpost\.test>, to=<faxuser@faxpost\.test>, "
                              r"origin=fax, route=tsi")
        self.assertRegex(log, r"relay=fax\[ttyB\], pages=1, speed=14400, coding=MMR, ecm=yes, "
                              r"remote=\"\+1 555 9999\", duration=[\d.]+, status=received")
        rec = vm.wait_record("sent", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"]), (1, 0), rec)


if __name__ == "__main__":
    unittest.main()
