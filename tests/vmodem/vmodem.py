"""vmodem.py: start and drive the virtual telephone line from Python tests (stdlib only).

API
---
VModem(workdir, lines=None, faxes=None, delay=80, args=(), build=None)
    lines: {"ttyA": "5551001", ...}  Class 1 modems; the pty is linked at workdir/ttyA.
    faxes: {"5559999": {"ecm": False, "rings": 1, "id": "...", "mh": False, "speed": 9600}}
           virtual fax machines (mh: offer MH only; speed: highest rate offered);
           received faxes go to workdir/fax-<number>/.
    args:  extra vmodem options (e.g. ["-a", "5000", "-A"]).
    .start(timeout=10)   starts BUILD/tests-bin/vmodem in its own process group and waits
                         for its "ready" line; .pid
    .stop(timeout=5)     SIGTERM by pid, bounded wait, SIGKILL; returns the exit status
    .link(name)          the pty symlink path of a line
    .rx_dir(number)      the fax machine's folder
    .cmd(text)           one control command -> list of data lines; raises on "ERR"
    .call(target, path, ecm=False, sender=None, mh=False, sub=None) -> sequence number
    .records(kind)       "received" | "sent" -> list of dicts (seq, file, pages, code, ecm,
                         rate, coding, bad_rows, peer, remote, sub, secs, fax)
    .wait_record(kind, count=1, timeout=60) -> the records once there are count of them
    .log()               the process output so far
    Context manager: start on enter, stop on exit.

Dte(path)               a minimal DTE on a line for AT-level tests: .send(cmd),
                        .expect(regex, timeout) -> the text read up to the match, .close()

Pages:
make_page(path, width=1728, height=800, seed=0)  writes an uncompressed bilevel TIFF test page
write_pbm(path, rows, width)                     raw PBM (efax's simplest input format)
to_g3(src, dst)                                  tiffcp -c g3:1d:fill, one strip per page
read_pages(path) -> [(width, height, rows)]      decode any bilevel TIFF (via tiffcp -c none),
                                                 rows as bytes, 1 = black
"""
import os
import re
import select
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import time

SRC = os.path.abspath(os.environ.get("FAXPOST_SRC")
                      or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.abspath(os.environ.get("FAXPOST_BUILD") or os.path.join(SRC, "build"))
VMODEM = os.path.join(BUILD, "tests-bin", "vmodem")


class VModem:
    def __init__(self, workdir, lines=None, faxes=None, delay=80, args=(), build=None):
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.lines = dict(lines or {})
        self.faxes = dict(faxes or {})
        self.delay = delay
        self.args = list(args)
        self.binary = os.path.join(build, "tests-bin", "vmodem") if build else VMODEM
        self.sock = os.path.join(self.workdir, "vmodem.sock")
        self.out_path = os.path.join(self.workdir, "vmodem.out")
        self.popen = None
        self.pid = None
        self.returncode = None

    def link(self, name):
        return os.path.join(self.workdir, name)

    def rx_dir(self, number):
        return os.path.join(self.workdir, "fax-%s" % number)

    def command_line(self):
        cmd = [self.binary, "-s", self.sock, "-d", str(self.delay)]
        for name, number in self.lines.items():
            cmd += ["-l", "%s=%s" % (self.link(name), number)]
        for number, opts in self.faxes.items():
            os.makedirs(self.rx_dir(number), exist_ok=True)
            spec = "%s=%s" % (number, self.rx_dir(number))
            opts = opts or {}
            if opts.get("ecm"):
                spec += ",ecm"
            if opts.get("mh"):
                spec += ",mh"
            if opts.get("speed"):
                spec += ",speed=%d" % opts["speed"]
            if opts.get("rings"):
                spec += ",rings=%d" % opts["rings"]
            if opts.get("id"):
                spec += ",id=%s" % opts["id"]
            cmd += ["-F", spec]
        return cmd + self.args

    def start(self, timeout=10):
        self._out = open(self.out_path, "wb")
        self.popen = subprocess.Popen(self.command_line(), stdout=self._out,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        self.pid = self.popen.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "vmodem: ready pid=%d" % self.pid in self.log():
                return self
            if self.popen.poll() is not None:
                break
            time.sleep(0.02)
        out = self.log()
        self.stop()
        raise RuntimeError("vmodem did not start:\n" + out)

    def log(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout=5):
        if self.popen is None or self.returncode is not None:
            return self.returncode
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.returncode = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.returncode = self.popen.wait(timeout=5)
        self._out.close()
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # control socket
    def cmd(self, text, timeout=5):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(text.encode() + b"\n")
            data = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                lines = data.decode("utf-8", "replace").splitlines()
                if data.endswith(b"\n") and lines and re.match(r"(OK|ERR)\b", lines[-1]):
                    break
        lines = data.decode("utf-8", "replace").splitlines()
        if not lines or not lines[-1].startswith("OK"):
            raise RuntimeError("vmodem %r: %s" % (text, lines[-1] if lines else "no reply"))
        return lines

    def call(self, target, path, ecm=False, sender=None, mh=False, sub=None):
        text = "call %s %s" % (target, path)
        if ecm:
            text += " ecm"
        if mh:
            text += " mh"
        if sub:
            text += " sub %s" % sub
        if sender:
            text += " from %s" % sender
        return int(self.cmd(text)[-1].split()[-1])

    def records(self, kind="received"):
        out = []
        for line in self.cmd(kind)[:-1]:
            parts = line.split()
            rec = {"seq": int(parts[1]), "file": parts[2]}
            for p in parts[3:]:
                k, _, v = p.partition("=")
                rec[k] = v
            for k in ("pages", "code", "ecm", "rate", "bad_rows"):
                rec[k] = int(rec[k])
            rec["secs"] = float(rec["secs"])
            out.append(rec)
        return out

    def wait_record(self, kind="received", count=1, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records(kind)
            if len(recs) >= count:
                return recs
            if time.monotonic() >= deadline:
                raise AssertionError("no %s record after %ss; vmodem log:\n%s"
                                     % (kind, timeout, self.log()[-3000:]))
            time.sleep(0.2)


class Dte:
    """A raw-mode serial port user: send AT commands, wait for responses."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        attrs = termios.tcgetattr(self.fd)
        attrs[0] = 0            # iflag
        attrs[1] = 0            # oflag
        attrs[3] = 0            # lflag: raw
        attrs[6][termios.VMIN] = 0
        attrs[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.buf = ""

    def send(self, cmd):
        os.write(self.fd, (cmd + "\r").encode())

    def expect(self, regex, timeout=10):
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.buf)
            if m:
                text = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r after %ss; got %r" % (regex, timeout, self.buf))
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                try:
                    self.buf += os.read(self.fd, 4096).decode("latin-1")
                except BlockingIOError:
                    pass

    def command(self, cmd, timeout=5):
        self.send(cmd)
        return self.expect(r"\r\n(OK|ERROR)\r\n", timeout)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# --- pages ---------------------------------------------------------------------------

def _tiff(path, width, height, data, xres=204, yres=196):
    entries = []
    off_data = 8
    off_x = off_data + len(data)
    off_y = off_x + 8
    off_ifd = off_y + 8
    for tag, typ, val in ((256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 1),
                          (262, 3, 0), (266, 3, 1), (273, 4, off_data), (277, 3, 1),
                          (278, 4, height), (279, 4, len(data)), (282, 5, off_x),
                          (283, 5, off_y), (296, 3, 2)):
        entries.append((tag, typ, val))
    out = bytearray(b"II*\x00" + struct.pack("<I", off_ifd))
    out += data + struct.pack("<II", xres, 1) + struct.pack("<II", yres, 1)
    out += struct.pack("<H", len(entries))
    for tag, typ, val in entries:
        if typ == 3:
            out += struct.pack("<HHIHH", tag, typ, 1, val, 0)
        else:
            out += struct.pack("<HHII", tag, typ, 1, val)
    out += struct.pack("<I", 0)
    with open(path, "wb") as f:
        f.write(out)


def page_rows(width=1728, height=800, seed=0):
    """A deterministic test page: bars, a diagonal, a frame and a seed-dependent block."""
    bpl = width // 8
    rows = []
    for y in range(height):
        r = bytearray(bpl)
        if y % 100 < 4:
            for x in range(2 + seed % 5, 25 + seed % 7):
                r[x] = 0xFF
        if 150 < y < height - 100:
            r[(y // 2 + seed) % bpl] |= 0xF0
            r[1] |= 0x80
            r[bpl - 2] |= 0x01
        if (y // 16 + seed) % 9 == 0:
            for x in range(100, 100 + 8 * (1 + seed % 3)):
                r[x % bpl] ^= 0xAA
        rows.append(bytes(r))
    return rows


def make_page(path, width=1728, height=800, seed=0):
    rows = page_rows(width, height, seed)
    _tiff(path, width, height, b"".join(rows))
    return rows


def write_pbm(path, rows, width=1728):
    with open(path, "wb") as f:
        f.write(b"P4\n%d %d\n" % (width, len(rows)) + b"".join(rows))


def to_g3(src, dst):
    subprocess.run(["tiffcp", "-c", "g3:1d:fill", "-r", "1000000", src, dst], check=True,
                   capture_output=True, timeout=30)


_REV = bytes(int("{:08b}".format(i)[::-1], 2) for i in range(256))


def read_pages(path):
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "raw.tif")
        subprocess.run(["tiffcp", "-c", "none", "-r", "10000000", path, raw], check=True,
                       capture_output=True, timeout=30)
        with open(raw, "rb") as f:
            data = f.read()
    bo = "<" if data[:2] == b"II" else ">"
    off = struct.unpack(bo + "I", data[4:8])[0]
    pages = []
    while off:
        n = struct.unpack(bo + "H", data[off:off + 2])[0]
        tags = {}
        for i in range(n):
            e = off + 2 + 12 * i
            tag, typ, cnt = struct.unpack(bo + "HHI", data[e:e + 8])
            if typ == 3 and cnt == 1:
                tags[tag] = struct.unpack(bo + "H", data[e + 8:e + 10])[0]
            elif typ == 4 and cnt == 1:
                tags[tag] = struct.unpack(bo + "I", data[e + 8:e + 12])[0]
        w, h = tags[256], tags[257]
        bpl = (w + 7) // 8
        img = data[tags[273]:tags[273] + tags[279]]
        rows = [img[i * bpl:(i + 1) * bpl] for i in range(h)]
        if tags.get(266, 1) == 2:
            rows = [r.translate(_REV) for r in rows]
        if tags.get(262, 0) == 1:
            rows = [bytes(b ^ 0xFF for b in r) for r in rows]
        pages.append((w, h, rows))
        off = struct.unpack(bo + "I", data[off + 2 + 12 * n:off + 6 + 12 * n])[0]
    return pages
