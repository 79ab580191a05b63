"""test_codec.py: `faxpost convert` and codecd against libtiff's own tools (the peers).

Every TIFF-FX file we write is read by tiffinfo; profile S and F files are also copied
by tiffcp (profile J too by tiffinfo only: libtiff 4.5 has no T.85 decoder) and
decoded by tiffcp -c none to the right size. Text, PDF and PNG inputs render to pages.
Receivers that accept nothing we make get 5.6.3, unknown media 5.6.1, damaged or
hostile documents 5.6.5 within bounded time and memory. codecd serves the same jobs
over IPC (raw requests from Python with SCM_RIGHTS, and `faxpost convert --server`),
refuses malformed requests with 5.5.4 and keeps serving after a hostile job.
"""
import array
import os
import re
import shutil
import socket
import struct
import tempfile
import time
import unittest
import zlib

import fixture

CORPUS = os.path.join(fixture.SRC, "tests", "data", "corpus")
TIFFINFO = shutil.which("tiffinfo") or "/usr/bin/tiffinfo"
TIFFCP = shutil.which("tiffcp") or "/usr/bin/tiffcp"

S_RECEIVER = ("(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MH)"
              " (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) ) (& (dpi=200) (dpi-xyratio=[200/100,1]) ) )"
              " (size-x<=2150/254) (paper-size=A4) (ua-media=stationery) )")
HIGH_END = ("(& (image-file-structure=TIFF) (MRC-mode=0) (color=Binary)"
            " (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) ) (& (dpi=200) (dpi-xyratio=[200/100,1]) )"
            " (& (dpi=300) (dpi-xyratio=1) ) )"
            " (| (image-coding=[MH,MR,MMR]) (& (image-coding=JBIG) (image-coding-constraint=JBIG-T85)"
            " (JBIG-stripe-size=128) ) ) (paper-size=[letter,A4,B4]) (ua-media=stationery) )")

IPC_CONVERT = 0x434f4e56
IPC_CONVERT_REPLY = 0x43565250


def png_bytes(w, h):
    """A grey ramp PNG, written with zlib only."""
    raw = b"".join(b"\0" + bytes((x * 255 // w) for x in range(w)) for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def ipc_attr(kind, name, value):
    if kind == b"I":
        value = struct.pack(">q", value)
    elif isinstance(value, str):
        value = value.encode()
    return kind + bytes([len(name)]) + name.encode() + struct.pack(">I", len(value)) + value


def ipc_frame(mtype, nfds, attrs):
    body = ipc_attr(b"I", "_nfds", nfds) + b"".join(ipc_attr(k, n, v) for k, n, v in attrs)
    return struct.pack(">II", 8 + len(body), mtype) + body


def ipc_parse(data):
    total, mtype = struct.unpack(">II", data[:8])
    out, i = {}, 8
    while i < total:
        kind = data[i:i + 1]
        nl = data[i + 1]
        name = data[i + 2:i + 2 + nl].decode()
        vl = struct.unpack(">I", data[i + 2 + nl:i + 6 + nl])[0]
        v = data[i + 6 + nl:i + 6 + nl + vl]
        out[name] = struct.unpack(">q", v)[0] if kind == b"I" else v.decode()
        i += 6 + nl + vl
    return mtype, out


class ConvertTest(unittest.TestCase):
    def setUp(self):
        self.inst = fixture.Instance("codec", codec_time_limit="60s")
        self.tmp = tempfile.mkdtemp(prefix="test_codec.")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def convert(self, *inputs, to=None, out="out.tif", extra=(), timeout=60):
        args = ["convert"] + list(inputs) + ["-o", self.path(out)] + list(extra)
        if to is not None:
            args += ["--to", to]
        return self.inst.faxpost(*args, timeout=timeout)

    def tiffinfo(self, name):
        r = fixture.run([TIFFINFO, self.path(name)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def tiffcp_ok(self, name):
        r = fixture.run([TIFFCP, "-c", "none", self.path(name), self.path(name + ".none.tif")])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        info = fixture.run([TIFFINFO, self.path(name + ".none.tif")]).stdout
        self.assertIn("Compression Scheme: None", info)
        return info

    def test_profiles_read_by_libtiff_tools(self):
        fine = os.path.join(CORPUS, "fine_g4.tif")
        cases = [
            (S_RECEIVER, "S MH", "CCITT Group 3", "lsb-to-msb", "Group 3 Options: (0 = 0x0)"),
            ("(image-coding=MH)", "F MH", "CCITT Group 3", "lsb-to-msb", "Group 3 Options: (0 = 0x0)"),
            ("(image-coding=MR)", "F MR", "CCITT Group 3", "lsb-to-msb", "Group 3 Options: 2-d encoding (1 = 0x1)"),
            ("(image-coding=[MH,MR,MMR])", "F MMR", "CCITT Group 4", "lsb-to-msb", "Group 4 Options: (0 = 0x0)"),
        ]
        for expr, label, scheme, fill, opts in cases:
            r = self.convert(fine, to=expr, out="p.tif")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("23 pages, profile %s 204x196, width 1728" % label, r.stdout)
            info = self.tiffinfo("p.tif")
            self.assertEqual(info.count("TIFF Directory at offset"), 23)
            self.assertIn("TIFF Directory at offset 0x8 (8)", info)
            self.assertIn("Compression Scheme: %s" % scheme, info)
            self.assertIn("FillOrder: %s" % fill, info)
            self.assertIn(opts, info)
            self.assertIn("Subfile Type: multi-page document (2 = 0x2)", info)
            self.assertIn("Page Number: 22-23", info)
            self.assertIn("Rows/Strip: 2200", info)
            self.assertIn("Resolution: 204, 196 pixels/inch", info)
            cp = self.tiffcp_ok("p.tif")
            self.assertEqual(cp.count("Image Width: 1728 Image Length: 2200"), 23)
        # Profile J: tiffinfo reads it; libtiff cannot decode Compression 9 (T.85).
        r = self.convert(fine, to=HIGH_END, out="j.tif")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("profile J JBIG 204x196", r.stdout)
        info = self.tiffinfo("j.tif")
        self.assertIn("Compression Scheme: 9", info)

    def test_resolution_and_paper(self):
        r = self.convert(os.path.join(CORPUS, "sfine_g4.tif"), to=S_RECEIVER, out="s.tif")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 pages, profile S MH 204x196, width 1728", r.stdout)
        info = self.tiffcp_ok("s.tif")
        self.assertIn("Image Width: 1728 Image Length: 2156", info)
        r = self.convert(os.path.join(CORPUS, "std_g4.tif"), to="(image-coding=MMR)", out="std.tif")
        self.assertIn("6 pages, profile F MMR 204x98", r.stdout)
        r = self.convert(os.path.join(CORPUS, "b4_g4.tif"), to="(& (image-coding=MMR) (paper-size=A4))", out="b4.tif")
        self.assertIn("width 1728 (A4)", r.stdout)
        r = self.convert(os.path.join(CORPUS, "a3_g4.tif"), to="(& (image-coding=MMR) (paper-size=[A3,A4]))", out="a3.tif")
        self.assertIn("width 2432 (A3)", r.stdout)

    def test_rendered_inputs(self):
        with open(self.path("ramp.png"), "wb") as f:
            f.write(png_bytes(200, 150))
        r = self.convert(os.path.join(CORPUS, "src", "email.txt"), to=S_RECEIVER, out="t.tif")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\b1[01] pages, profile S MH")
        self.tiffcp_ok("t.tif")
        r = self.convert(os.path.join(CORPUS, "src", "email.pdf"), self.path("ramp.png"),
                         to="(image-coding=MMR)", out="pdf.tif")
        self.assertEqual(r.returncode, 0, r.stderr)
        pages = int(re.search(r"(\d+) pages", r.stdout).group(1))
        self.assertGreaterEqual(pages, 2)
        self.assertEqual(self.tiffinfo("pdf.tif").count("TIFF Directory at offset"), pages)
        # Standard input, typed.
        r = self.inst.faxpost("convert", "--type", "text/plain", "-", "-o", self.path("stdin.tif"),
                              input="Hello fax\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 pages", r.stdout)

    def test_refusals(self):
        fine = os.path.join(CORPUS, "std_g4.tif")
        r = self.convert(fine, to="(image-coding=JPEG)", out="no.tif")
        self.assertEqual(r.returncode, 1)
        self.assertIn("5.6.3", r.stderr)
        self.assertFalse(os.path.exists(self.path("no.tif")))
        r = self.inst.faxpost("convert", "--type", "application/msword", fine, "-o", self.path("no.tif"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("5.6.1", r.stderr)
        r = self.convert(fine, to="(image-coding=", out="no.tif")
        self.assertEqual(r.returncode, 1)
        self.assertIn("5.5.4", r.stderr)
        r = self.inst.faxpost("convert", "-o")
        self.assertEqual(r.returncode, 2)

    def hostile(self, name, data, to=None):
        with open(self.path(name), "wb") as f:
            f.write(data)
        t0 = time.monotonic()
        r = self.convert(self.path(name), to=to, out="h.tif")
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(r.returncode, 1, "%s: %s %s" % (name, r.stdout, r.stderr))
        self.assertIn("5.6.5", r.stderr)
        self.assertNotIn("crashed", r.stderr)
        return r.stderr

    def test_hostile_documents(self):
        with open(os.path.join(CORPUS, "std_g4.tif"), "rb") as f:
            tif = bytearray(f.read())
        self.hostile("trunc.tif", bytes(tif[:5000]))
        self.hostile("garbage.tif", b"II*\0" + os.urandom(3000))
        # IFD loop: the first IFD's next pointer back to itself.
        loop = bytearray(tif)
        ifd = struct.unpack("<I", loop[4:8])[0]
        n = struct.unpack("<H", loop[ifd:ifd + 2])[0]
        loop[ifd + 2 + 12 * n:ifd + 6 + 12 * n] = struct.pack("<I", ifd)
        with open(self.path("loop.tif"), "wb") as f:
            f.write(loop)
        r = self.convert(self.path("loop.tif"), out="h.tif")
        self.assertIn(r.returncode, (0, 1))
        if r.returncode == 0:
            self.assertIn(" 1 pages", " " + r.stdout)
        # Huge dimensions: width alone (our limit), then both (libtiff's strip checks).
        for tags, want in (((256,), "beyond the limits"), ((256, 257), "TIFF")):
            huge = bytearray(tif)
            for i in range(n):
                e = ifd + 2 + 12 * i
                tag = struct.unpack("<H", huge[e:e + 2])[0]
                if tag in tags:
                    huge[e + 2:e + 12] = struct.pack("<HII", 4, 1, 0x7fffffff)
            self.assertIn(want, self.hostile("huge.tif", bytes(huge)))
        # Broken PDFs and images.
        with open(os.path.join(CORPUS, "src", "email.pdf"), "rb") as f:
            pdf = f.read()
        self.hostile("broken.pdf", pdf[:len(pdf) // 4])
        self.hostile("empty.pdf", b"%PDF-1.7\n%%EOF\n")
        self.hostile("bad.png", png_bytes(40, 40)[:60])
        self.hostile("bomb.png", png_bytes(20, 20)[:16] + struct.pack(">II", 200000, 200000)
                     + png_bytes(20, 20)[24:])
        # A corrupt T.85 strip inside a profile J file.
        r = self.convert(os.path.join(CORPUS, "std_g4.tif"), to=HIGH_END, out="jj.tif")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("jj.tif"), "rb") as f:
            j = bytearray(f.read())
        for i in range(200, len(j) - 100, 97):
            j[i] ^= 0x5a
        with open(self.path("jbad.tif"), "wb") as f:
            f.write(j)
        r = self.convert(self.path("jbad.tif"), out="h.tif")
        self.assertIn(r.returncode, (0, 1))
        self.assertNotIn("crashed", r.stderr)

    def test_cpu_limit(self):
        inst = fixture.Instance("codec-cpu", codec_cpu_limit="1s", codec_memory_limit="4g",
                                codec_max_pages=2000)
        with open(self.path("big.txt"), "w") as f:
            f.write("The quick brown fox jumps over the lazy dog 0123456789\n" * 20000)
        t0 = time.monotonic()
        r = inst.faxpost("convert", self.path("big.txt"), "--to", "(& (dpi=400) (dpi-xyratio=1))",
                         "-o", self.path("cpu.tif"), timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("5.6.5", r.stderr)
        self.assertIn("CPU time limit", r.stderr)
        self.assertLess(time.monotonic() - t0, 60)


class CodecdTest(unittest.TestCase):
    def setUp(self):
        self.inst = fixture.Instance("codecd")
        os.makedirs(os.path.join(self.inst.queue, "private"), exist_ok=True)
        self.sock = os.path.join(self.inst.queue, "private", "codecd")
        self.proc = self.inst.standalone("codecd", listen=self.sock)
        self.tmp = tempfile.mkdtemp(prefix="test_codecd.")

    def tearDown(self):
        self.proc.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, fds, attrs, nfds=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.sock)
        frame = ipc_frame(IPC_CONVERT, len(fds) if nfds is None else nfds, attrs)
        s.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else [])
        data = b""
        while len(data) < 8 or len(data) < struct.unpack(">I", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return ipc_parse(data)

    def test_convert_over_ipc(self):
        out_path = os.path.join(self.tmp, "out.tif")
        with open(os.path.join(CORPUS, "std_g4.tif"), "rb") as inp, open(out_path, "wb") as out:
            mtype, rep = self.request([inp.fileno(), out.fileno()],
                                      [(b"S", "target", S_RECEIVER), (b"I", "in_count", 1),
                                       (b"S", "in_type.0", "image/tiff")])
        self.assertEqual(mtype, IPC_CONVERT_REPLY)
        self.assertEqual(rep["status"], "2.0.0", rep)
        self.assertEqual((rep["pages"], rep["profile"], rep["coding"], rep["xres"], rep["yres"], rep["width"]),
                         (6, "S", "MH", 204, 98, 1728))
        r = fixture.run([TIFFINFO, out_path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.inst.wait_log(r"codecd\[\d+\]: convert: parts=1, status=2\.0\.0, pages=6, profile=S/MH 204x98")
        # Wrong descriptor count, then a hostile document: refused, and codecd keeps serving.
        with open(os.path.join(CORPUS, "std_g4.tif"), "rb") as inp:
            mtype, rep = self.request([inp.fileno()], [(b"I", "in_count", 1)])
        self.assertEqual(rep["status"], "5.5.4")
        bad = os.path.join(self.tmp, "bad.tif")
        with open(bad, "wb") as f:
            f.write(b"II*\0\x08\0\0\0" + b"\xff" * 500)
        with open(bad, "rb") as inp, open(out_path, "wb") as out:
            mtype, rep = self.request([inp.fileno(), out.fileno()], [(b"I", "in_count", 1)])
        self.assertEqual(rep["status"], "5.6.5")
        self.assertEqual(os.path.getsize(out_path), 0)
        r = self.inst.faxpost("convert", "--server", os.path.join(CORPUS, "src", "email.txt"),
                              "--to", "(image-coding=MMR)", "-o", os.path.join(self.tmp, "t.tif"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"1[01] pages, profile F MMR 204x196, width 1728")
        self.assertTrue(self.proc.alive())


if __name__ == "__main__":
    unittest.main()
