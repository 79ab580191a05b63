"""test_hwd.py: hwd against the virtual telephone line, SANE's test backend, and the
spool printer.

hwd runs stand-alone (-S on queue/private/hwd) in a private instance; the tests speak
lib/mail/ipc.h's wire form to it (IPC_LINE_REQUEST dial / wait / status, the
hand-over to hw_receive_service, IPC_SCAN_REQUEST, IPC_PRINT_REQUEST) and use efax on
the line fd hwd hands over. Every process is stopped by pid.
"""
import array
import base64
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

HWD = os.path.join(fixture.LIBEXEC, "hwd")
EFAX = shutil.which("efax")
SCANIMAGE = shutil.which("scanimage")

IPC_LINE_REQUEST = 0x4c494e45
IPC_LINE_REPLY = 0x4c4e5250
IPC_SCAN_REQUEST = 0x5343414e
IPC_SCAN_REPLY = 0x53435250
IPC_PRINT_REQUEST = 0x5052494e
IPC_PRINT_REPLY = 0x50525250


# --- lib/mail/ipc.h wire form ----------------------------------------------------------

def ipc_encode(mtype, attrs, nfds=0):
    body = b""
    items = [("_nfds", nfds)] + list(attrs.items())
    for name, v in items:
        n = name.encode()
        if isinstance(v, int):
            body += b"I" + bytes([len(n)]) + n + struct.pack(">I", 8) + struct.pack(">q", v)
        else:
            val = v.encode() if isinstance(v, str) else v
            body += (b"S" if isinstance(v, str) else b"B") + bytes([len(n)]) + n \
                + struct.pack(">I", len(val)) + val
    return struct.pack(">II", 8 + len(body), mtype) + body


def ipc_send(sock, mtype, attrs, fds=()):
    data = ipc_encode(mtype, attrs, len(fds))
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], anc)


def ipc_recv(sock, timeout=10):
    sock.settimeout(timeout)
    fds = array.array("i")
    data = b""
    want = 8
    while len(data) < want:
        msg, anc, _, _ = sock.recvmsg(want - len(data), socket.CMSG_SPACE(8 * 4))
        if not msg:
            raise EOFError("connection closed after %d bytes" % len(data))
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
        data += msg
        if len(data) >= 8:
            want = struct.unpack(">I", data[:4])[0]
    mtype = struct.unpack(">I", data[4:8])[0]
    attrs, off = {}, 8
    while off < len(data):
        kind, nlen = chr(data[off]), data[off + 1]
        name = data[off + 2:off + 2 + nlen].decode()
        vlen = struct.unpack(">I", data[off + 2 + nlen:off + 6 + nlen])[0]
        val = data[off + 6 + nlen:off + 6 + nlen + vlen]
        attrs[name] = struct.unpack(">q", val)[0] if kind == "I" else \
            (val.decode() if kind == "S" else val)
        off += 6 + nlen + vlen
    return mtype, attrs, list(fds)


class HwdCase(unittest.TestCase):
    lines = {"ttyH": "3012345"}
    faxes = {"1234567": {"id": "REMOTE FAX"}}
    params = {}

    def setUp(self):
        if not os.path.exists(HWD) or not os.path.exists(vmodem.VMODEM):
            self.skipTest("hwd or vmodem not built")
        self.procs = []
        self.fds = []
        self.inst = fixture.Instance("hwd")
        self.vm = vmodem.VModem(os.path.join(self.inst.dir, "vm"), lines=self.lines,
                                faxes=self.faxes, build=fixture.BUILD)
        self.vm.start()
        self.procs.append(self.vm)
        os.makedirs(os.path.join(self.inst.data, "lock"), exist_ok=True)
        os.makedirs(os.path.join(self.inst.queue, "private"), exist_ok=True)
        params = {
            "hw_modem_lines": ", ".join("%s=+49%s" % (self.vm.link(n), num)
                                        for n, num in self.lines.items()),
            "hw_country_code": "49", "hw_area_code": "30",
            "hw_modem_lock_directory": os.path.join(self.inst.data, "lock"),
            "hw_modem_flow_control": "none",
            "hw_receive_service": "",
        }
        params.update(self.params)
        self.inst.write_main_cf(**params)
        self.sock = os.path.join(self.inst.queue, "private", "hwd")

    def start_hwd(self, env=None):
        if os.path.exists(self.sock):        # left by an hwd stopped earlier in the test
            os.unlink(self.sock)
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            self.hwd = self.inst.standalone("hwd", listen=self.sock)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.procs.append(self.hwd)
        return self.hwd

    def wait_ready(self, n=1, timeout=15):
        self.inst_log_wait(r"modem ready", n, timeout)

    def inst_log_wait(self, regex, n=1, timeout=15):
        deadline = time.monotonic() + timeout
        pat = re.compile(regex)
        while time.monotonic() < deadline:
            text = self.hwd.output() + "\n".join(self.inst.log_lines())
            if len(pat.findall(text)) >= n:
                return text
            time.sleep(0.1)
        self.fail("no %r in hwd's output:\n%s\n%s" % (regex, self.hwd.output(),
                                                    "\n".join(self.inst.log_lines()[-20:])))

    def tearDown(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        for p in reversed(self.procs):
            p.stop()

    def connect(self):
        # The socket path exists from bind(), a moment before listen(): retry briefly.
        deadline = time.monotonic() + 3
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return s
            except ConnectionRefusedError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def request(self, mtype, attrs, fds=(), keep=False, timeout=10):
        s = self.connect()
        ipc_send(s, mtype, attrs, fds)
        reply = ipc_recv(s, timeout)
        self.fds.extend(reply[2])
        if keep:
            return s, reply
        s.close()
        return reply

    def status_lines(self):
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "status"})
        return [a["line.%d" % i] for i in range(a["lines"])]


class TestLines(HwdCase):
    def test_dial_lease_with_efax_and_release(self):
        if not EFAX:
            self.skipTest("efax not installed")
        self.start_hwd()
        self.wait_ready()
        lock = os.path.join(self.inst.data, "lock", "LCK..ttyH")
        with open(lock) as f:
            self.assertEqual(int(f.read()), self.hwd.pid)          # HDB UUCP lock
        conn, (t, a, fds) = self.request(IPC_LINE_REQUEST,
                                         {"op": "dial", "number": "+49 30 123-4567"},
                                         keep=True)
        self.assertEqual((t, a["status"], a["dial"]), (IPC_LINE_REPLY, "2.0.0", "1234567"))
        self.assertEqual(a["line"], self.vm.link("ttyH"))
        self.assertEqual(len(fds), 1)
        self.assertIn("leased", self.status_lines()[0])
        # A second dial finds no idle line.
        _, b, _ = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+4930999"})
        self.assertEqual(b["status"], "4.3.2")
        # efax uses the line hwd handed over and dials what the rules said.
        pbm = os.path.join(self.inst.dir, "page.pbm")
        rows = vmodem.page_rows(seed=5, height=600)
        vmodem.write_pbm(pbm, rows)
        r = subprocess.run([EFAX, "-d", "/dev/fd/%d" % fds[0], "-o1", "-h", "", "-l",
                            "+49 30 12345", "-t", a["dial"], pbm], pass_fds=fds,
                           capture_output=True, text=True, timeout=50)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        rec = self.vm.wait_record("received", 1, timeout=10)[0]
        self.assertEqual((rec["pages"], rec["code"], rec["peer"]), (1, 0, "3012345"))
        got = vmodem.read_pages(rec["file"])[0][2]
        self.assertEqual(got[20:], rows)
        # Closing the lease: hwd hangs up and the line is idle again.
        conn.close()
        self.inst_log_wait(r"line released")
        deadline = time.monotonic() + 15
        while "idle" not in self.status_lines()[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertIn("idle", self.status_lines()[0])

    def test_termios_and_modem_loss(self):
        import termios
        self.inst.write_main_cf(hw_modem_speed=38400, hw_modem_flow_control="rtscts")
        self.start_hwd()
        self.wait_ready()
        fd = os.open(self.vm.link("ttyH"), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
        finally:
            os.close(fd)
        self.assertEqual((ispeed, ospeed), (termios.B38400, termios.B38400))
        self.assertTrue(cflag & termios.CRTSCTS and cflag & termios.HUPCL
                        and cflag & termios.CLOCAL)
        self.assertFalse(lflag & (termios.ICANON | termios.ECHO | termios.ISIG))
        self.assertFalse(iflag & (termios.IXON | termios.ICRNL))
        # The modem goes away: hwd notices, closes the line and does not spin.
        self.vm.stop()
        self.inst_log_wait(r"modem lost", timeout=10)
        cpu = lambda pid: sum(int(x) for x in open("/proc/%d/stat" % pid).read()
                              .rsplit(")", 1)[1].split()[11:13])
        before = cpu(self.hwd.pid)
        time.sleep(2)
        self.assertLess(cpu(self.hwd.pid) - before, 20)     # < 0.2 s of CPU in 2 s
        self.assertIn("closed", self.status_lines()[0])

    def test_dial_errors(self):
        self.start_hwd()
        self.wait_ready()
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+49 30 CALLME"})
        self.assertEqual(a["status"], "5.1.3")
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "dial"})
        self.assertEqual(a["status"], "5.5.4")
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "frob"})
        self.assertEqual(a["status"], "5.5.1")
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+4930123",
                                                  "line": "/dev/nonexistent"})
        self.assertEqual(a["status"], "4.3.2")

    def test_incoming_call_to_waiter(self):
        self.start_hwd()
        self.wait_ready()
        s = self.connect()
        ipc_send(s, IPC_LINE_REQUEST, {"op": "wait", "timeout": 40})
        time.sleep(0.3)
        raw = os.path.join(self.inst.dir, "page.tif")
        vmodem.make_page(raw, height=100)
        self.vm.call("3012345", raw)
        t, a, fds = ipc_recv(s, timeout=30)
        self.fds.extend(fds)
        self.assertEqual((a["status"], a["caller_id"], a["did"], a["answered"]),
                         ("2.0.0", "1234567", "3012345", 1), a)
        # The tty we got is the answered line: the modem says CONNECT (CED sent).
        dte = os.fdopen(os.dup(fds[0]), "rb", buffering=0)
        os.set_blocking(dte.fileno(), False)
        data, deadline = b"", time.monotonic() + 10
        while b"CONNECT" not in data and time.monotonic() < deadline:
            try:
                data += dte.read(256) or b""
            except BlockingIOError:
                time.sleep(0.05)
        dte.close()
        self.assertIn(b"CONNECT", data)
        s.close()
        self.inst_log_wait(r"line released")
        self.assertIn("incoming call from 1234567", "\n".join(self.inst.log_lines())
                      + self.hwd.output())

    def test_silent_client_does_not_block(self):
        self.start_hwd()
        self.wait_ready()
        silent = self.connect()                 # connects and never says anything
        try:
            t0 = time.monotonic()
            self.assertIn("idle", self.status_lines()[0])
            self.assertLess(time.monotonic() - t0, 1.0)
        finally:
            silent.close()

    def test_wait_timeout(self):
        self.start_hwd()
        self.wait_ready()
        t0 = time.monotonic()
        _, a, _ = self.request(IPC_LINE_REQUEST, {"op": "wait", "timeout": 2}, timeout=10)
        self.assertEqual(a["status"], "4.4.1")
        self.assertLess(time.monotonic() - t0, 5)


class TestReceiveService(HwdCase):
    params = {"hw_receive_service": "testrx", "hw_answer_rings": "2"}

    def test_incoming_call_handed_to_service(self):
        path = os.path.join(self.inst.queue, "private", "testrx")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(40)
        self.start_hwd()
        self.wait_ready()
        raw = os.path.join(self.inst.dir, "page.tif")
        vmodem.make_page(raw, height=100)
        t0 = time.monotonic()
        self.vm.call("3012345", raw)
        c, _ = srv.accept()
        t, a, fds = ipc_recv(c, timeout=10)
        self.fds.extend(fds)
        self.assertEqual((t, a["op"], a["caller_id"], a["did"], len(fds)),
                         (IPC_LINE_REQUEST, "receive", "1234567", "3012345", 1))
        self.assertGreater(time.monotonic() - t0, 5)    # two rings, 6 s apart
        c.close()
        srv.close()
        self.inst_log_wait(r"line released")


class TestLocks(HwdCase):
    def test_stale_and_live_locks(self):
        lockdir = os.path.join(self.inst.data, "lock")
        with open(os.path.join(lockdir, "LCK..ttyH"), "w") as f:
            f.write("%10d\n" % 999999)                      # no such process: stale
        self.start_hwd()
        self.wait_ready()
        self.inst_log_wait("removing stale lock")
        self.hwd.stop()
        self.assertFalse(os.path.exists(os.path.join(lockdir, "LCK..ttyH")))
        sleeper = fixture.Proc(["sleep", "30"], name="sleeper")
        self.procs.append(sleeper)
        with open(os.path.join(lockdir, "LCK..ttyH"), "w") as f:
            f.write("%10d\n" % sleeper.pid)                 # alive: the line is in use
        self.start_hwd()
        self.inst_log_wait("locked by pid %d" % sleeper.pid)
        self.assertIn("closed", self.status_lines()[0])


def sane_config(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "dll.conf"), "w") as f:
        f.write("test\n")
    # The stock test.conf stops at 200 mm, narrower than a fax page: A4 here.
    with open("/etc/sane.d/test.conf") as f:
        conf = f.read()
    conf = re.sub(r"(?m)^geometry_max .*$", "geometry_max 300.0", conf)
    conf = re.sub(r"(?m)^br_x .*$", "br_x 215.0", conf)
    conf = re.sub(r"(?m)^br_y .*$", "br_y 297.0", conf)
    with open(os.path.join(d, "test.conf"), "w") as f:
        f.write(conf)
    return d


def queued_tiff(inst, qid):
    """The image/tiff part of queue file qid (incoming/), decoded."""
    with open(os.path.join(inst.queue, "incoming", qid), "rb") as f:
        data = f.read().decode("latin-1")
    m = re.search(r"Content-Type: image/tiff.*?\r\n\r\n(.*?)\r\n--", data, re.S)
    return base64.b64decode(m.group(1).replace("\r\n", ""))


class TestScan(HwdCase):
    lines = {}
    faxes = {"1234567": {}}

    def test_scan_sane_test_backend(self):
        if not SCANIMAGE:
            self.skipTest("sane-utils not installed")
        self.inst.write_main_cf(hw_scan_backend="sane", hw_scan_device="test:0")
        cfg = sane_config(os.path.join(self.inst.dir, "sane"))
        self.start_hwd(env={"SANE_CONFIG_DIR": cfg})
        _, a, _ = self.request(IPC_SCAN_REQUEST, {"to": "alice@example.com"}, timeout=60)
        self.assertEqual((a["status"], a["pages"]), ("2.0.0", 1), a)
        self.assertIn(a["queue_id"], self.inst.queue_files("incoming"))
        tif = os.path.join(self.inst.dir, "scan.tif")
        with open(tif, "wb") as f:
            f.write(queued_tiff(self.inst, a["queue_id"]))
        pages = vmodem.read_pages(tif)
        self.assertEqual(len(pages), 1)
        w, h, rows = pages[0]
        self.assertEqual(w, 1728)
        self.assertIn(h, (2338, 2339))                   # 297 mm at 200 dpi
        black = sum(bin(b).count("1") for r in rows for b in r)
        self.assertTrue(0.05 < black / (w * h) < 0.95, black)   # the Grid pattern
        self.assertEqual(rows[h // 2][:2], b"\x00\x00")  # centred 1693 pels: white margin

    def test_scan_folder_and_cli(self):
        folder = os.path.join(self.inst.data, "scan")
        os.makedirs(folder)
        self.inst.write_main_cf(hw_scan_backend="folder", hw_scan_folder=folder)
        rows = [bytes([0xFF] * 10 + [0] * 201 + [0x0F]) for _ in range(50)] + \
            [bytes(212) for _ in range(50)]                  # 1696 pels wide
        raw = os.path.join(folder, "page1.tif")
        vmodem._tiff(raw, 1696, 100, b"".join(rows), 200, 200)
        self.start_hwd()
        r = self.inst.faxpost("scan", "--to", "bob@example.com", timeout=30)
        if "unknown" in (r.stdout + r.stderr).lower() and r.returncode == 2:
            self.skipTest("faxpost scan not built in")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        qid = re.search(r"queued as ([0-9A-Z]{12})", r.stdout).group(1)
        self.assertFalse(os.path.exists(raw))                # consumed after the commit
        tif = os.path.join(self.inst.dir, "scan.tif")
        with open(tif, "wb") as f:
            f.write(queued_tiff(self.inst, qid))
        w, h, got = vmodem.read_pages(tif)[0]
        self.assertEqual((w, h), (1728, 100))
        # 16 white pels each side: the 1696 pels are centred.
        self.assertEqual(got[0][:3], b"\x00\x00\xff")
        self.assertEqual(got[0][-3:], b"\x0f\x00\x00")
        # Nothing in the folder: a temporary failure, no message.
        r = self.inst.faxpost("scan", "--to", "bob@example.com", timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no pages", r.stdout + r.stderr)

    def test_scan_bad_recipient(self):
        self.start_hwd()
        _, a, _ = self.request(IPC_SCAN_REQUEST, {"to": "no-at-sign"})
        self.assertEqual(a["status"], "5.1.3")
        _, a, _ = self.request(IPC_SCAN_REQUEST, {})
        self.assertEqual(a["status"], "5.5.4")


class TestPrint(HwdCase):
    lines = {}
    faxes = {"1234567": {}}

    def test_print_spool(self):
        spool = os.path.join(self.inst.data, "print")
        os.makedirs(spool)
        self.inst.write_main_cf(hw_print_backend="spool", hw_print_spool=spool)
        self.start_hwd()
        doc = os.path.join(self.inst.dir, "fax.tif")
        vmodem.make_page(doc, height=50)
        with open(doc, "rb") as f:
            _, a, _ = self.request(IPC_PRINT_REQUEST, {"type": "image/tiff", "title": "fax 1",
                                                      "queue_id": "0123456789AB"},
                                   fds=[f.fileno()])
        self.assertEqual(a["status"], "2.0.0", a)
        job = a["job"]
        with open(os.path.join(spool, job + ".tif"), "rb") as f1, open(doc, "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        with open(os.path.join(spool, job + ".info")) as f:
            info = f.read()
        self.assertIn("title=fax 1", info)
        self.assertIn("queue_id=0123456789AB", info)
        self.assertEqual(sorted(os.listdir(spool)), sorted([job + ".tif", job + ".info"]))
        with open(doc, "rb") as f:
            _, a, _ = self.request(IPC_PRINT_REQUEST, {"type": "text/html"}, fds=[f.fileno()])
        self.assertEqual(a["status"], "5.6.1")
        _, a, _ = self.request(IPC_PRINT_REQUEST, {"type": "image/tiff"})
        self.assertEqual(a["status"], "5.5.4")


CUPSD = shutil.which("cupsd") or ("/usr/sbin/cupsd" if os.path.exists("/usr/sbin/cupsd") else None)
LPADMIN = shutil.which("lpadmin")


def start_cupsd(d, procs):
    """A private cupsd on a free loopback port; returns its port."""
    import pwd
    for sub in ("etc", "spool", "tmp", "cache", "state", "log"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(os.path.join(d, "tmp"), 0o1777)
    port = fixture.free_port()
    user = "lp" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    with open(os.path.join(d, "etc", "cupsd.conf"), "w") as f:
        f.write("Listen 127.0.0.1:%d\nLogLevel info\nWebInterface No\n"
                "DefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n"
                "</Location>\n<Location /admin>\n  Order allow,deny\n  Allow all\n"
                "</Location>\n<Policy default>\n  <Limit All>\n    Order deny,allow\n"
                "  </Limit>\n</Policy>\n" % port)
    with open(os.path.join(d, "etc", "cups-files.conf"), "w") as f:
        f.write("ServerRoot %s/etc\nRequestRoot %s/spool\nTempDir %s/tmp\n"
                "CacheDir %s/cache\nStateDir %s/state\nErrorLog %s/log/error_log\n"
                "AccessLog %s/log/access_log\nPageLog %s/log/page_log\nFileDevice Yes\n"
                "User %s\nGroup %s\n" % ((d,) * 8 + (user, "lp" if user == "lp" else user)))
    p = fixture.Proc([CUPSD, "-f", "-c", os.path.join(d, "etc", "cupsd.conf"),
                      "-s", os.path.join(d, "etc", "cups-files.conf")], name="cupsd")
    procs.append(p)
    fixture.wait_listen(port, timeout=15)
    return port


class TestPrintCups(HwdCase):
    lines = {}
    faxes = {"1234567": {}}

    def test_print_through_cups_to_a_socket_printer(self):
        if not CUPSD or not LPADMIN:
            self.skipTest("cups not installed")
        port = start_cupsd(os.path.join(self.inst.dir, "cups"), self.procs)
        # The "printer": a JetDirect-style raw socket on loopback, fed by CUPS's socket backend.
        printer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        printer.bind(("127.0.0.1", 0))
        printer.listen(1)
        printer.settimeout(30)
        r = fixture.run([LPADMIN, "-h", "127.0.0.1:%d" % port, "-p", "faxprint", "-E", "-v",
                         "socket://127.0.0.1:%d" % printer.getsockname()[1], "-m", "raw"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.inst.write_main_cf(hw_print_backend="cups", hw_print_queue="faxprint",
                                hw_cups_server="127.0.0.1:%d" % port)
        self.start_hwd()
        doc = os.path.join(self.inst.dir, "fax.tif")
        vmodem.make_page(doc, height=80, seed=3)
        with open(doc, "rb") as f:
            _, a, _ = self.request(IPC_PRINT_REQUEST, {"type": "image/tiff", "title": "fax 2"},
                                   fds=[f.fileno()], timeout=30)
        self.assertEqual(a["status"], "2.0.0", a)
        self.assertTrue(a["job"].startswith("faxprint-"), a)
        c, _ = printer.accept()
        c.settimeout(20)
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        c.close()
        printer.close()
        with open(doc, "rb") as f:
            self.assertEqual(data, f.read())
        # A queue that does not exist: a temporary failure with CUPS's reason.
        self.inst.write_main_cf(hw_print_queue="nosuchprinter")
        self.hwd.stop()
        self.start_hwd()
        with open(doc, "rb") as f:
            _, a, _ = self.request(IPC_PRINT_REQUEST, {"type": "image/tiff"}, fds=[f.fileno()],
                                   timeout=30)
        self.assertEqual(a["status"], "4.3.0", a)


class TestTwoLinesUnderMaster(HwdCase):
    lines = {"ttyH": "3012345", "ttyI": "3012346"}

    def test_master_starts_hwd_with_two_lines(self):
        if not os.path.exists(os.path.join(fixture.LIBEXEC, "master")):
            self.skipTest("master not built")
        self.inst.write_master_cf(["hwd unix - - n - 1 hwd"])
        self.inst.start()
        self.procs.append(self.inst)
        self.inst.wait_log(r"ttyH: modem ready", timeout=20)
        self.inst.wait_log(r"ttyI: modem ready", timeout=20)
        self.assertTrue(os.path.exists(self.sock))
        states = self.status_lines()
        self.assertEqual(len(states), 2)
        self.assertTrue(all(l.endswith(" idle") for l in states), states)
        # Two dials get the two lines; a third finds none; closing one frees it.
        c1, (_, a1, _) = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+1 212 555 0100"},
                                      keep=True)
        c2, (_, a2, _) = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+49 89 1234"},
                                      keep=True)
        self.assertEqual((a1["status"], a1["dial"]), ("2.0.0", "0012125550100"))
        self.assertEqual((a2["status"], a2["dial"]), ("2.0.0", "0891234"))
        self.assertNotEqual(a1["line"], a2["line"])
        _, a3, _ = self.request(IPC_LINE_REQUEST, {"op": "dial", "number": "+4930777"})
        self.assertEqual(a3["status"], "4.3.2")
        ipc_send(c1, IPC_LINE_REQUEST, {"op": "hangup"})
        _, r, _ = ipc_recv(c1)
        self.assertEqual(r["status"], "2.0.0")
        c1.close()
        c2.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(l.endswith(" idle")
                                                      for l in self.status_lines()):
            time.sleep(0.2)
        self.assertTrue(all(l.endswith(" idle") for l in self.status_lines()))
        self.inst.wait_log(r"line released \(hangup requested\)")
        # master's SIGTERM: hwd releases its UUCP locks.
        self.inst.stop()
        self.assertEqual(os.listdir(os.path.join(self.inst.data, "lock")), [])


if __name__ == "__main__":
    unittest.main()
