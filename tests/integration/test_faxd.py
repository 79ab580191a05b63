"""test_faxd.py: faxd (T.30 over Class 1) against real fax peers on the virtual line.

Peers: efax (Debian) on a second Class 1 line, faxd itself, and the virtual remote fax
machine of tests/vmodem (spandsp T.30, with and without ECM). faxd runs in its CLI test
mode (`faxd -c ETC --send DEV NUMBER FILE` / `--receive DEV OUT`) with an Instance's
main.cf. Every transfer compares the decoded pages received with the pages sent; the
failure tests check the result, the retry class, the log line and that no call hangs.
Each test starts its own vmodem and stops every process by pid.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

EFAX = shutil.which("efax")
FAXD = os.path.join(fixture.BUILD, "libexec", "faxd")
FAXPOST = os.path.join(fixture.BUILD, "bin", "faxpost")
CORPUS = "/work/shared/corpus/tif/fine_g4.tif"
SUMMARY = re.compile(r"^status=(\S+) dsn=(\S+) class=(\S+) pages=(\d+)/(\d+) speed=(\d+) "
                     r"coding=(\S+) ecm=(\S+) remote=\"([^\"]*)\" duration=([\d.]+) "
                     r"page_time=([\d.]+) .*queued=(\S+) rcpt=(\S+)", re.M)


def summary(text):
    m = SUMMARY.search(text)
    if not m:
        raise AssertionError("no faxd summary line in:\n" + text[-3000:])
    keys = ("status", "dsn", "class", "done", "total", "speed", "coding", "ecm", "remote",
            "duration", "page_time", "queued", "rcpt")
    d = dict(zip(keys, m.groups()))
    for k in ("done", "total", "speed"):
        d[k] = int(d[k])
    for k in ("duration", "page_time"):
        d[k] = float(d[k])
    return d


@unittest.skipUnless(os.path.exists(FAXD), "faxd not built")
class FaxdCase(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(vmodem.VMODEM):
            self.skipTest("vmodem not built")
        self.procs = []
        self.inst = fixture.Instance("faxd", fax_station_id="+49 30 1111",
                                     fax_modem_init="AT+VCID=1")
        self.dir = self.inst.dir

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()

    def vm(self, **kw):
        v = vmodem.VModem(os.path.join(self.dir, "vm"), build=fixture.BUILD, **kw)
        v.start()
        self.procs.append(v)
        return v

    def proc(self, cmd, name):
        p = fixture.Proc(cmd, name=name, out_dir=self.dir)
        self.procs.append(p)
        return p

    def send(self, link, number, path, *opts, timeout=55):
        cmd = [FAXD, "-c", self.inst.etc, "--send", link, number, path] + list(opts)
        t0 = time.monotonic()
        r = fixture.run(cmd, timeout=timeout)
        return r, summary(r.stdout), time.monotonic() - t0

    def receiver(self, link, out, *opts):
        return self.proc([FAXD, "-c", self.inst.etc, "--receive", link, out,
                          "--timeout", "50"] + list(opts), "faxd-rx")

    def pages(self, index, path, std=False):
        """Corpus pages index (a list) as one TIFF at path (generated pages without it)."""
        count = len(index)
        if os.path.exists(CORPUS):
            spec = CORPUS + "," + ",".join(str(i) for i in index)
            fixture.run(["tiffcp", "-c", "g4", spec, path], check=True)
            if std:          # standard resolution: every other row, 98 lpi
                w, h, r = vmodem.read_pages(path)[0]
                half = r[::2]
                vmodem._tiff(path, w, len(half), b"".join(half), yres=98)
        else:
            parts = []
            for i in range(count):
                part = path + ".%d.tif" % i
                vmodem.make_page(part, height=600, seed=index[i])
                parts.append(part)
            fixture.run(["tiffcp"] + parts + [path], check=True)
        return [p[2] for p in vmodem.read_pages(path)]

    def log_text(self):
        try:
            with open(self.inst.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def journal(self):
        try:
            with open(os.path.join(self.inst.data, "fax_journal")) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def assertPagesEqual(self, got, want):
        self.assertEqual(len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(len(g), len(w), "page %d: %d rows, want %d" % (i + 1, len(g), len(w)))
            bad = [k for k in range(len(w)) if g[k] != w[k]]
            self.assertEqual(bad, [], "page %d rows differ: %s" % (i + 1, bad[:10]))


class TestFaxdVirtualMachine(FaxdCase):
    def test_send_ecm_mmr_multipage_fine(self):
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {"ecm": True, "id": "VIRTUAL"}})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([1, 0, 1], doc)
        r, s, secs = self.send(v.link("ttyA"), "5559999", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log()[-2000:])
        self.assertEqual((s["status"], s["dsn"], s["done"], s["total"]), ("sent", "2.0.0", 3, 3))
        self.assertEqual((s["speed"], s["coding"], s["ecm"], s["remote"]),
                         (14400, "MMR", "yes", "VIRTUAL"))
        rec = v.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (3, 0, 1), rec)
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(rec["file"])], want)
        log = self.log_text()
        self.assertRegex(log, r"faxpost/faxd\[\d+\]: -: to=<5559999>, relay=fax\[ttyA\], "
                              r"pages=3/3, speed=14400, coding=MMR, ecm=yes, "
                              r"remote=\"VIRTUAL\", duration=[\d.]+, dsn=2\.0\.0, status=sent")
        j = self.journal()
        self.assertEqual(len(j), 1)
        self.assertIn("dir=send", j[0])
        self.assertIn("pages=3/3 speed=14400 coding=MMR ecm=yes", j[0])
        if os.path.exists(FAXPOST):
            jj = fixture.run([FAXPOST, "-c", self.inst.etc, "journal", "-j"])
            self.assertEqual(jj.returncode, 0, jj.stderr)
            import json
            e = json.loads(jj.stdout.splitlines()[-1])
            self.assertEqual((e["dir"], e["number"], e["pages"], e["coding"], e["status"],
                              e["remote"]), ("send", "5559999", "3/3", "MMR", "sent", "VIRTUAL"))
        # the remote's DIS is remembered for CONNEG (a dict-format Berkeley DB)
        if os.path.exists(FAXPOST):
            m = fixture.run([FAXPOST, "-c", self.inst.etc, "map", "-q", "5559999",
                             os.path.join(self.inst.data, "fax_capabilities")])
            self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
            self.assertIn("image-coding=[MH,MR,MMR]", m.stdout)
            self.assertIn("dpi-xyratio=[204/98,204/196]", m.stdout)
        print("  faxd -> virtual (ECM, MMR, 3 fine pages): call %.1f s, %.1f s per page"
              % (s["duration"], s["page_time"]))

    def test_send_no_ecm_standard(self):
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559998": {"id": "PLAIN"}})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([13], doc, std=True)
        r, s, secs = self.send(v.link("ttyA"), "5559998", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log()[-2000:])
        self.assertEqual((s["status"], s["coding"], s["ecm"], s["done"]), ("sent", "MR", "no", 1))
        rec = v.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (1, 0, 0), rec)
        got = vmodem.read_pages(rec["file"])
        self.assertPagesEqual([p[2] for p in got], want)
        print("  faxd -> virtual (no ECM, MR, standard): call %.1f s, %.1f s per page"
              % (s["duration"], s["page_time"]))

    def test_resume_at_first_unconfirmed_page(self):
        """A retry after 1 confirmed page sends pages 2 and 3 only."""
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {"ecm": True}})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([1, 0, 22], doc)
        r, s, secs = self.send(v.link("ttyA"), "5559999", doc, "--first-page", "1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log()[-2000:])
        self.assertEqual((s["status"], s["done"], s["total"]), ("sent", 3, 3))
        rec = v.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"]), (2, 0), rec)
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(rec["file"])], want[1:])

    def test_page_header(self):
        """fax_header is drawn over the top rows of every page; the rest is unchanged."""
        self.inst.write_main_cf(fax_header="FAX %I page %P of %T")
        v = self.vm(lines={"ttyA": "5551001"}, faxes={"5559999": {"ecm": True}})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([0, 0], doc)            # two blank pages
        r, s, secs = self.send(v.link("ttyA"), "5559999", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + v.log()[-2000:])
        rec = v.wait_record("received", 1, timeout=10)[0]
        got = [p[2] for p in vmodem.read_pages(rec["file"])]
        self.assertEqual(len(got), 2)
        for g, w in zip(got, want):
            inked = [y for y in range(len(g)) if any(g[y])]
            self.assertTrue(inked, "no header drawn")
            self.assertGreaterEqual(min(inked), 2)
            self.assertLess(max(inked), 60)
            self.assertEqual(g[60:], w[60:])
        self.assertNotEqual(got[0][:60], got[1][:60])   # "page 1 of 2" / "page 2 of 2"

    def test_receive_from_virtual_machine_ecm(self):
        v = self.vm(lines={"ttyB": "5551002"}, faxes={"5559999": {"ecm": True, "id": "+1 555 9999"}})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([3], doc)
        out = os.path.join(self.dir, "rx.tif")
        rx = self.receiver(v.link("ttyB"), out)
        time.sleep(1.0)
        v.call("ttyB", doc, ecm=True)
        self.assertEqual(rx.wait(timeout=55), 0, rx.output()[-3000:] + v.log()[-2000:])
        s = summary(rx.output())
        self.assertEqual((s["status"], s["done"], s["ecm"], s["remote"]), ("received", 1, "yes",
                                                                            "+1 555 9999"))
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(out)], want)


@unittest.skipUnless(EFAX, "efax not installed")
class TestFaxdEfax(FaxdCase):
    def test_faxd_to_efax(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([1], doc)
        prefix = os.path.join(self.dir, "efax")
        rx = self.proc([EFAX, "-d", v.link("ttyB"), "-o1", "-w", "-iS0=1", "-l", "+1 222 2222",
                        "-r", prefix], "efax-rx")
        time.sleep(1.5)
        r, s, secs = self.send(v.link("ttyA"), "5551002", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + rx.output()[-2000:])
        self.assertEqual((s["coding"], s["ecm"], s["remote"], s["done"]), ("MH", "no", "+1 222 2222", 1))
        self.assertEqual(rx.wait(timeout=15), 0, rx.output()[-2000:])
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(prefix + ".001")], want)
        print("  faxd -> efax (MH, fine): call %.1f s, %.1f s per page"
              % (s["duration"], s["page_time"]))

    def test_efax_to_faxd_onramp(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        routes = os.path.join(self.inst.etc, "fax_routes")
        with open(routes, "w") as f:
            f.write("did:5551002 sales@example.org\ntsi:+15551001 other@example.org\n")
        if not os.path.exists(FAXPOST):
            self.skipTest("faxpost not built (needed for faxpost map)")
        fixture.run([FAXPOST, "-c", self.inst.etc, "map", routes], check=True)
        self.inst.write_main_cf(fax_routes="fax_routes", fax_domains="fax.example",
                                fax_station_id="+49 30 1111", fax_modem_init="AT+VCID=1")
        rows = vmodem.page_rows(seed=5)
        pbm = os.path.join(self.dir, "page.pbm")
        vmodem.write_pbm(pbm, rows)
        out = os.path.join(self.dir, "rx.tif")
        rx = self.receiver(v.link("ttyB"), out, "--queue")
        time.sleep(1.0)
        r = fixture.run([EFAX, "-d", v.link("ttyA"), "-o1", "-l", "+1 555 1001", "-h", "",
                         "-t", "5551002", pbm], timeout=55)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(rx.wait(timeout=15), 0, rx.output()[-3000:])
        s = summary(rx.output())
        self.assertEqual((s["status"], s["done"], s["coding"], s["remote"]),
                         ("received", 1, "MH", "+1 555 1001"))
        self.assertEqual(s["rcpt"], "sales@example.org")         # routed by DID
        self.assertFalse(os.path.exists(out), "TIFF left behind after queueing")
        qid = s["queued"]
        path = os.path.join(self.inst.queue, "incoming", qid)
        self.assertTrue(os.path.exists(path), path)
        with open(path, "rb") as f:
            q = f.read()
        self.assertIn(b"FAX=+15551001@fax.example", q)
        self.assertIn(b"Content-Type: image/tiff; application=faxbw", q)
        self.assertIn(b"sales@example.org", q)
        m = re.search(rb"Content-Disposition: attachment; filename=\"fax.tif\"\r\n\r\n"
                      rb"([A-Za-z0-9+/=\r\n]+)\r\n--", q)
        self.assertIsNotNone(m)
        tif = os.path.join(self.dir, "mail.tif")
        with open(tif, "wb") as f:
            f.write(base64.b64decode(m.group(1)))
        got = vmodem.read_pages(tif)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][0], 1728)
        # efax puts a blank 20-row header band above the page it sends
        self.assertEqual(got[0][2][20:], rows)
        self.assertRegex(self.log_text(), r"%s: from=<FAX=\+15551001@fax\.example>, "
                                          r"to=<sales@example\.org>, origin=fax, route=did" % qid)

    def test_faxd_to_faxd_ecm(self):
        """MMR with 64-octet ECM frames (JBIG switched off)."""
        self.inst.write_main_cf(fax_jbig="no", fax_ecm_frame_size=64)
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([1, 0], doc)
        out = os.path.join(self.dir, "rx.tif")
        rx = self.receiver(v.link("ttyB"), out)
        time.sleep(1.0)
        r, s, secs = self.send(v.link("ttyA"), "5551002", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + rx.output()[-2000:])
        self.assertEqual(rx.wait(timeout=15), 0, rx.output()[-2000:])
        self.assertEqual((s["coding"], s["ecm"], s["done"]), ("MMR", "yes", 2))
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(out)], want)
        print("  faxd -> faxd (ECM 64, MMR, 2 fine pages): call %.1f s" % s["duration"])

    @unittest.skipUnless(os.path.exists(FAXPOST), "faxpost not built")
    def test_faxd_to_faxd_jbig(self):
        """Both sides offer T.85: JBIG; pages checked after decoding with lib/codec."""
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        doc = os.path.join(self.dir, "doc.tif")
        want = self.pages([1, 22], doc)
        out = os.path.join(self.dir, "rx.tif")
        rx = self.receiver(v.link("ttyB"), out)
        time.sleep(1.0)
        r, s, secs = self.send(v.link("ttyA"), "5551002", doc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + rx.output()[-2000:])
        self.assertEqual(rx.wait(timeout=15), 0, rx.output()[-2000:])
        self.assertEqual((s["coding"], s["ecm"], s["done"]), ("JBIG", "yes", 2))
        mmr = os.path.join(self.dir, "rx-mmr.tif")
        c = fixture.run([FAXPOST, "-c", self.inst.etc, "convert", out, "--to",
                         "(& (image-file-structure=TIFF) (color=Binary) (image-coding=MMR) "
                         "(dpi=204) (dpi-xyratio=204/196) (paper-size=A4))", "-o", mmr])
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        self.assertPagesEqual([p[2] for p in vmodem.read_pages(mmr)], want)
        print("  faxd -> faxd (ECM, JBIG, 2 fine pages): call %.1f s, %.1f s per page"
              % (s["duration"], s["page_time"]))


class TestFaxdFailures(FaxdCase):
    def test_busy(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        b = vmodem.Dte(v.link("ttyB"))
        try:
            self.assertIn("OK", b.command("ATH1"))       # B off hook: busy
            doc = os.path.join(self.dir, "doc.tif")
            self.pages([1], doc)
            r, s, secs = self.send(v.link("ttyA"), "5551002", doc, "--id", "BUSYJOB00001",
                                   timeout=30)
        finally:
            b.close()
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual((s["status"], s["dsn"], s["class"], s["done"]), ("deferred", "4.4.1", "busy", 0))
        self.assertLess(secs, 20)
        self.assertRegex(self.log_text(), r"BUSYJOB00001: to=<5551002>, relay=fax\[ttyA\], "
                                          r"pages=0/1, .*dsn=4\.4\.1, status=deferred \(line busy\)")

    def test_no_answer(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"}, args=["-a", "4000", "-A"])
        doc = os.path.join(self.dir, "doc.tif")
        self.pages([1], doc)
        r, s, secs = self.send(v.link("ttyA"), "5551002", doc, timeout=30)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertEqual((s["status"], s["class"]), ("deferred", "no-answer"))
        self.assertLess(secs, 20)

    def test_not_a_fax_machine(self):
        """The far end answers (ATA) but never speaks T.30: T1 ends the call."""
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        b = vmodem.Dte(v.link("ttyB"))
        try:
            b.command("AT+FCLASS=1")
            doc = os.path.join(self.dir, "doc.tif")
            self.pages([1], doc)
            p = self.proc([FAXD, "-c", self.inst.etc, "--send", v.link("ttyA"), "5551002", doc],
                          "faxd-tx")
            b.expect("RING", 15)
            b.send("ATA")
            rc = p.wait(timeout=55)
        finally:
            b.close()
        self.assertEqual(rc, 4, p.output()[-2000:])
        s = summary(p.output())
        self.assertEqual((s["status"], s["class"]), ("deferred", "no-answer"))
        self.assertGreater(s["duration"], 30)

    def test_remote_hangs_up_mid_page(self):
        v = self.vm(lines={"ttyA": "5551001", "ttyB": "5551002"})
        doc = os.path.join(self.dir, "doc.tif")
        self.pages([1, 22, 1], doc)
        out = os.path.join(self.dir, "rx.tif")
        rx = self.receiver(v.link("ttyB"), out, "--no-ecm")
        time.sleep(1.0)
        tx = self.proc([FAXD, "-c", self.inst.etc, "-v", "--send", v.link("ttyA"), "5551002", doc,
                        "--id", "HANGUP000001"], "faxd-tx")
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and "page 2:" not in tx.output():
            time.sleep(0.2)
        self.assertIn("page 2:", tx.output())
        time.sleep(2)
        rx.stop()                                    # the receiver drops mid-page 2
        rc = tx.wait(timeout=50)
        self.assertEqual(rc, 5, tx.output()[-3000:])
        s = summary(tx.output())
        self.assertEqual((s["status"], s["dsn"], s["class"], s["done"], s["total"]),
                         ("deferred", "4.4.2", "protocol", 1, 3))     # resume from page 2
        # the modem is usable again at once (not stuck): AT answers OK
        d = vmodem.Dte(v.link("ttyA"))
        try:
            self.assertIn("OK", d.command("AT"))
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
