"""test_send.py: `faxpost send` queues files as a MIME message: to a local Maildir, and
as a fax (FAX= address) through qmgr, codecd and faxd to the virtual fax machine."""
import email
import email.policy
import glob
import os
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402


def one_page_pdf(path, text="faxpost send test page"):
    """A valid one-page A4 PDF with a line of Helvetica text, offsets computed."""
    stream = b"BT /F1 24 Tf 72 720 Td (%s) Tj ET" % text.encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(path, "wb") as f:
        f.write(out)


class TestSendLocal(unittest.TestCase):
    def test_files_to_maildir(self):
        inst = fixture.Instance("send-local", mydestination="faxpost.test")
        inst.write_master_cf(["qmgr unix-dgram n - n 300 1 qmgr", "local unix - - n - 2 local"])
        txt = os.path.join(inst.dir, "note.txt")
        blob = os.path.join(inst.dir, "data.bin")
        with open(txt, "w") as f:
            f.write("hello\nsecond line\n")
        with open(blob, "wb") as f:
            f.write(bytes(range(256)) * 40)
        with inst:
            r = inst.faxpost("send", "-f", "alice@faxpost.test", "-s", "two files",
                             "-m", "see attached", "-t", "bob@faxpost.test", txt, blob)
            self.assertEqual(r.returncode, 0, r.stderr)
            qid = r.stdout.split()[-1]
            inst.wait_log(qid + r": to=<bob@faxpost\.test>.*status=sent", timeout=20)
        files = glob.glob(os.path.join(inst.data, "mail", "bob", "Maildir", "new", "*"))
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "two files")
        self.assertIn("alice@faxpost.test", msg["From"])
        parts = [p for p in msg.walk() if not p.is_multipart()]
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "text/plain", "application/octet-stream"])
        self.assertEqual(parts[0].get_content().strip(), "see attached")
        self.assertEqual(parts[1].get_payload(decode=True), b"hello\nsecond line\n")
        self.assertEqual(parts[2].get_payload(decode=True), bytes(range(256)) * 40)
        self.assertEqual(parts[2].get_filename(), "data.bin")

    def test_usage_and_errors(self):
        inst = fixture.Instance("send-usage")
        self.assertEqual(inst.faxpost("send").returncode, 2)
        self.assertEqual(inst.faxpost("send", "-t", "a b@x", "f").returncode, 2)
        self.assertEqual(inst.faxpost("send", "--help").returncode, 0)
        r = inst.faxpost("send", "-t", "bob@faxpost.test", "/nonexistent/file.pdf")
        self.assertEqual(r.returncode, 1)
        self.assertIn("No such file", r.stderr)
        self.assertEqual(inst.queue_files("incoming"), [])


@unittest.skipUnless(os.path.exists(vmodem.VMODEM), "vmodem is not built")
class TestSendFax(unittest.TestCase):
    def fax_instance(self, name):
        inst = fixture.Instance(name)
        vm = vmodem.VModem(os.path.join(inst.dir, "vm"), lines={"ttyA": "5551001"},
                           faxes={"15559999": {"ecm": True, "id": "REMOTE"}}, build=fixture.BUILD)
        vm.start()
        self.addCleanup(vm.stop)
        self.addCleanup(inst.stop)
        inst.write_main_cf(fax_modem_devices=vm.link("ttyA"), fax_station_id="+1 555 1001")
        inst.write_master_cf(["qmgr unix-dgram n - n 300 1 qmgr", "fax unix - - n - 2 faxd",
                              "codecd unix - - n - 2 codecd", "local unix - - n - 2 local"])
        inst.start()
        return inst, vm

    def test_tiff_as_fax(self):
        inst, vm = self.fax_instance("send-fax-tiff")
        page = os.path.join(inst.dir, "page.tif")
        rows = vmodem.make_page(page, height=500, seed=3)
        t0 = time.monotonic()
        r = inst.faxpost("send", "-t", "FAX=+15559999@faxpost.test", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = vm.wait_record("received", 1, timeout=55)[0]
        self.assertEqual((rec["pages"], rec["code"]), (1, 0), rec)
        w, h, got = vmodem.read_pages(rec["file"])[0]
        self.assertEqual((w, h), (1728, 500))
        self.assertEqual(got, rows)
        inst.wait_log(r"to=<FAX=\+15559999@faxpost\.test>.*pages=1/1.*status=sent", timeout=20)
        print("  faxpost send TIFF -> virtual fax machine: %.1f s" % (time.monotonic() - t0))

    def test_pdf_as_fax(self):
        inst, vm = self.fax_instance("send-fax-pdf")
        pdf = os.path.join(inst.dir, "doc.pdf")
        one_page_pdf(pdf)
        t0 = time.monotonic()
        r = inst.faxpost("send", "-t", "FAX=+15559999@faxpost.test", pdf)
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = vm.wait_record("received", 1, timeout=55)[0]
        self.assertEqual((rec["pages"], rec["code"]), (1, 0), rec)
        w, h, rows = vmodem.read_pages(rec["file"])[0]
        self.assertEqual(w, 1728)
        black = sum(bin(int.from_bytes(r, "big")).count("1") if isinstance(r, bytes) else 0
                    for r in rows)
        self.assertGreater(black, 100, "the rendered text must reach the fax")
        inst.wait_log(r"to=<FAX=\+15559999@faxpost\.test>.*pages=1/1.*status=sent", timeout=20)
        print("  faxpost send PDF -> virtual fax machine: %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    unittest.main()
