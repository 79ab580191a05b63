"""test_hwd_e2e.py: a scanned page goes out as a fax, end to end.

`faxpost scan --to FAX=+15559999@faxpost.test` -> hwd (folder scanner) queues the page ->
qmgr routes the FAX= address -> faxd calls on a vmodem Class 1 line -> the virtual fax
machine 15559999 receives it (ECM, MMR); the received bitmap equals the scanned page.
master starts every daemon; hwd holds the second line. Skipped when a daemon is not built.
"""
import os
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

DAEMONS = ("master", "qmgr", "faxd", "codecd", "hwd", "local", "smtp")


@unittest.skipUnless(all(os.path.exists(os.path.join(fixture.LIBEXEC, d)) for d in DAEMONS)
                     and os.path.exists(vmodem.VMODEM), "a daemon or vmodem is not built")
class TestScanToFax(unittest.TestCase):
    def test_scan_to_fax(self):
        inst = fixture.Instance("hwd-e2e")
        vm = vmodem.VModem(os.path.join(inst.dir, "vm"),
                           lines={"ttyA": "5551001", "ttyB": "5551002"},
                           faxes={"15559999": {"ecm": True, "id": "REMOTE"}}, build=fixture.BUILD)
        vm.start()
        try:
            folder = os.path.join(inst.data, "scan")
            os.makedirs(folder)
            os.makedirs(os.path.join(inst.data, "lock"))
            rows = vmodem.make_page(os.path.join(folder, "p1.tif"), height=600, seed=9)
            inst.write_main_cf(
                fax_modem_devices=vm.link("ttyA"), fax_station_id="+1 555 1001",
                hw_modem_lines="%s=+15551002" % vm.link("ttyB"),
                hw_modem_lock_directory=os.path.join(inst.data, "lock"),
                hw_modem_flow_control="none", hw_receive_service="",
                hw_scan_backend="folder", hw_scan_folder=folder)
            inst.write_master_cf(["qmgr unix-dgram n - n 300 1 qmgr",
                                  "fax unix - - n - 2 faxd", "codecd unix - - n - 2 codecd",
                                  "hwd unix - - n - 1 hwd", "local unix - - n - 2 local",
                                  "smtp unix - - n - 2 smtp"])
            inst.start()
            inst.wait_log(r"ttyB: modem ready", timeout=20)
            t0 = time.monotonic()
            r = inst.faxpost("scan", "--to", "FAX=+15559999@faxpost.test")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            qid = r.stdout.split()[2]
            rec = vm.wait_record("received", 1, timeout=55)[0]
            secs = time.monotonic() - t0
            self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (1, 0, 1), rec)
            self.assertEqual(rec["peer"], "5551001")
            w, h, got = vmodem.read_pages(rec["file"])[0]
            self.assertEqual((w, h), (1728, 600))
            self.assertEqual(got, rows)
            inst.wait_log(qid + r": to=<FAX=\+15559999@faxpost.test>.*status=sent", timeout=15)
            print("  faxpost scan -> queue -> faxd -> virtual fax machine: %.1f s" % secs)
        finally:
            inst.stop()
            vm.stop()


@unittest.skipUnless(all(os.path.exists(os.path.join(fixture.LIBEXEC, d))
                         for d in ("master", "qmgr", "smtpd", "hwd", "local")),
                     "a daemon is not built")
class TestMailToPrinter(unittest.TestCase):
    def test_mail_with_tiff_and_pdf_is_printed(self):
        import smtplib
        from email.message import EmailMessage
        port = fixture.free_port()
        inst = fixture.Instance("hwd-print")
        spool = os.path.join(inst.data, "print")
        os.makedirs(spool)
        with open(os.path.join(inst.etc, "transport"), "w") as f:
            f.write("printer@faxpost.test print:\n")
        r = inst.faxpost("map", os.path.join(inst.etc, "transport"))
        self.assertEqual(r.returncode, 0, r.stderr)
        inst.write_main_cf(transport_maps=os.path.join(inst.etc, "transport"),
                           hw_print_backend="spool", hw_print_spool=spool)
        inst.write_master_cf(["127.0.0.1:%d inet n - n - 1 smtpd" % port,
                              "qmgr unix-dgram n - n 300 1 qmgr",
                              "print unix - - n - 1 hwd", "local unix - - n - 2 local"])
        tif = os.path.join(inst.dir, "fax.tif")
        vmodem.make_page(tif, height=40, seed=1)
        with open(tif, "rb") as f:
            tiff_bytes = f.read()
        pdf_bytes = b"%PDF-1.4\n% not a real PDF, printed as it is\n%%EOF\n"
        msg = EmailMessage()
        msg["From"] = "alice@example.com"
        msg["To"] = "printer@faxpost.test"
        msg["Subject"] = "Please print"
        msg.set_content("two documents attached")
        msg.add_attachment(tiff_bytes, maintype="image", subtype="tiff", filename="fax.tif")
        msg.add_attachment(pdf_bytes, maintype="application", subtype="pdf", filename="a.pdf")
        with inst:
            inst.wait_log(r"print delivery agent", timeout=10)
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                s.send_message(msg)
            m = inst.wait_log(r"to=<printer@faxpost.test>.*status=sent \(printed 2 documents",
                              timeout=20)
            self.assertIn("print-", m.string)
        files = sorted(os.listdir(spool))
        self.assertEqual(len([f for f in files if f.endswith(".info")]), 2, files)
        [t] = [f for f in files if f.endswith(".tif")]
        [p] = [f for f in files if f.endswith(".pdf")]
        with open(os.path.join(spool, t), "rb") as f:
            self.assertEqual(f.read(), tiff_bytes)
        with open(os.path.join(spool, p), "rb") as f:
            self.assertEqual(f.read(), pdf_bytes)
        with open(os.path.join(spool, t[:-4] + ".info")) as f:
            self.assertIn("title=Please print", f.read())


if __name__ == "__main__":
    unittest.main()
