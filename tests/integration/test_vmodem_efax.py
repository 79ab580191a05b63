"""test_vmodem_efax.py: efax (Debian) on the virtual line: efax -> the virtual fax
machine, the virtual fax machine -> efax, efax -> efax, busy, line noise and drop-outs.
Pages received are compared bitmap for bitmap with the pages sent. (A module of its own
so that the runner can run it beside test_vmodem.py.)
"""
import os
import sys
import time
import unittest

import fixture
from test_vmodem import EFAX, VModemCase

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402


@unittest.skipUnless(EFAX, "efax not installed")
class TestEfax(VModemCase):
    def test_efax_to_virtual_fax_machine(self):
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {"id": "VIRTUAL FAX"}})
        rows = vmodem.page_rows(seed=1)
        pbm = os.path.join(self.dir, "page.pbm")
        vmodem.write_pbm(pbm, rows)
        r, secs = self.efax_send(v.link("ttyA"), "5559999", pbm)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log())
        self.assertIn("VIRTUAL FAX", r.stdout + r.stderr)
        rec = v.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"], rec["rate"]), (1, 0, 0, 14400))
        self.assertEqual(rec["peer"], "5551001")
        self.assertTrue(os.path.exists(rec["file"]), rec)
        self.assertEqual(os.listdir(v.rx_dir("5559999")), [os.path.basename(rec["file"])])
        pages = vmodem.read_pages(rec["file"])
        self.assertEqual(len(pages), 1)
        self.assertEqual(pages[0][0], 1728)
        self.assert_efax_page(pages[0][2], rows)
        print("  efax -> virtual fax machine: call %.1f s (efax wall), %.1f s on the line"
              % (secs, rec["secs"]))

    def test_virtual_fax_machine_to_efax(self):
        v = self.vm(lines={"ttyB": "5551002"}, faxes={"5559999": {"id": "VIRTUAL FAX"}})
        raw = os.path.join(self.dir, "raw.tif")
        tif = os.path.join(self.dir, "page.tif")
        rows = vmodem.make_page(raw, seed=2)
        vmodem.to_g3(raw, tif)
        rx = self.efax_receiver(v.link("ttyB"), os.path.join(self.dir, "efax"))
        time.sleep(1.5)          # efax initialises the modem (ATS0=1 ...)
        t0 = time.monotonic()
        v.call("ttyB", tif)
        rc = rx.wait(timeout=50)
        secs = time.monotonic() - t0
        self.assertEqual(rc, 0, rx.output() + v.log())
        out = rx.output()
        self.assertIn("NMBR=5559999", out)          # caller ID after AT+VCID=1
        self.assertIn("NDID=5551002", out)
        rec = v.wait_record("sent", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"]), (1, 0), rec)
        pages = vmodem.read_pages(os.path.join(self.dir, "efax.001"))
        self.assertEqual(len(pages), 1)
        self.assertEqual(pages[0][2], rows)
        print("  virtual fax machine -> efax: %.1f s from call to efax exit" % secs)

    def test_efax_to_efax(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        rows = vmodem.page_rows(seed=3)
        pbm = os.path.join(self.dir, "page.pbm")
        vmodem.write_pbm(pbm, rows)
        rx = self.efax_receiver(v.link("ttyB"), os.path.join(self.dir, "efax"))
        time.sleep(1.5)
        r, secs = self.efax_send(v.link("ttyA"), "5551002", pbm)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log())
        self.assertEqual(rx.wait(timeout=15), 0, rx.output())
        pages = vmodem.read_pages(os.path.join(self.dir, "efax.001"))
        self.assertEqual(len(pages), 1)
        self.assert_efax_page(pages[0][2], rows)
        print("  efax -> efax: %.1f s" % secs)

    def test_efax_with_line_noise(self):
        # -60 dBm0 of white noise (a noisy but legal line): the page still arrives intact.
        # (spandsp 0.0.6's T.31 under efax starts failing at about -55 dBm0.)
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {}}, args=["-N", "-60"])
        rows = vmodem.page_rows(seed=7, height=400)
        pbm = os.path.join(self.dir, "page.pbm")
        vmodem.write_pbm(pbm, rows)
        r, secs = self.efax_send(v.link("ttyA"), "5559999", pbm)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log())
        rec = v.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"]), (1, 0))
        self.assert_efax_page(vmodem.read_pages(rec["file"])[0][2], rows)

    def test_efax_dropouts_break_the_call(self):
        # 300 ms of silence every 4 s of the call: training or the page is hit; efax
        # must not report success and the machine must not store a good page.
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {}}, args=["-D", "300/4000"])
        pbm = os.path.join(self.dir, "page.pbm")
        vmodem.write_pbm(pbm, vmodem.page_rows(seed=8))
        r, secs = self.efax_send(v.link("ttyA"), "5559999", pbm)
        self.assertIn("drop-out of 300 ms", v.log())
        recs = v.wait_record("received", 1, timeout=15)
        self.assertFalse(r.returncode == 0 and recs[0]["code"] == 0
                         and recs[0]["bad_rows"] == 0, r.stdout + v.log())

    def test_efax_busy(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        b = vmodem.Dte(v.link("ttyB"))
        try:
            self.assertIn("OK", b.command("ATH1"))       # B off hook: busy
            pbm = os.path.join(self.dir, "page.pbm")
            vmodem.write_pbm(pbm, vmodem.page_rows(height=100))
            r, secs = self.efax_send(v.link("ttyA"), "5551002", pbm, timeout=30)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)   # efax: 1 = busy
            self.assertIn("number is busy", r.stdout + r.stderr)
            self.assertLess(secs, 15)
        finally:
            b.close()


if __name__ == "__main__":
    unittest.main()
