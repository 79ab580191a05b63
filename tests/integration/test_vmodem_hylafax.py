"""test_vmodem_hylafax.py: HylaFAX (Debian hylafax-server) on the virtual line.

Interop only (make interop): HylaFAX's faxgetty answers on a vmodem Class 1 line and
receives from the virtual fax machine with and without ECM; faxq + hfaxd + sendfax send
through faxsend on a line to the virtual fax machine. HylaFAX runs on a private copy of
its spool (-q), with the Class 1 settings of its own config/iaxmodem prototype (a
spandsp T.31 modem, like ours). faxgetty needs a device name under /dev, so the line's
link is /dev/ttyVMhfPID (removed when vmodem stops). Every process is stopped by pid.
"""
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import unittest

import fixture

sys.path.insert(0, os.path.join(fixture.SRC, "tests", "vmodem"))
import vmodem  # noqa: E402

FAXGETTY = shutil.which("faxgetty") or "/usr/sbin/faxgetty"
FAXQ = "/usr/sbin/faxq"
HFAXD = "/usr/sbin/hfaxd"
SENDFAX = shutil.which("sendfax")

CONFIG = """CountryCode: 1
AreaCode: 555
FAXNumber: +1.555.%(number)s
LongDistancePrefix: 1
InternationalPrefix: 011
DialStringRules: etc/dialrules
ServerTracing: 0xFFF
SessionTracing: 0xFFF
RecvFileMode: 0644
LogFileMode: 0644
DeviceMode: 0666
RingsBeforeAnswer: 1
SpeakerVolume: off
LocalIdentifier: "HylaFAX Test"
TagLineFont: etc/lutRS18.pcf
TagLineFormat: ""
MaxRecvPages: 25
ModemType: Class1
ModemRate: 19200
ModemFlowControl: rtscts
ModemResetCmds: "ATH1\\nAT+VCID=1"
ModemReadyCmds: ATH0
Class1AdaptRecvCmd: AT+FAR=1
Class1TMConnectDelay: 400
Class1ECMSupport: yes
CallIDPattern: "NMBR="
CallIDPattern: "NAME="
CallIDPattern: "ANID="
CallIDPattern: "NDID="
"""


def have_hylafax():
    return os.path.exists(FAXGETTY) and os.path.isdir("/etc/hylafax") and os.getuid() == 0


def make_spool(d):
    """A private HylaFAX spool: the Debian etc/ and bin/, empty queues, owned by uucp."""
    for sub in ("archive", "client", "config", "dev", "docq", "doneq", "info", "log",
                "pollq", "recvq", "sendq", "status", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.copytree("/etc/hylafax", os.path.join(d, "etc"), dirs_exist_ok=True)
    shutil.copytree("/var/spool/hylafax/bin", os.path.join(d, "bin"), dirs_exist_ok=True)
    with open(os.path.join(d, "etc", "hosts.hfaxd"), "w") as f:
        f.write("localhost:21::\n127.0.0.1:21::\n")
    os.chmod(os.path.join(d, "etc", "hosts.hfaxd"), 0o600)
    os.mkfifo(os.path.join(d, "FIFO"), 0o600)
    uucp = pwd.getpwnam("uucp")
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uucp.pw_uid, uucp.pw_gid)
    os.chown(d, uucp.pw_uid, uucp.pw_gid)
    os.chmod(os.path.join(d, "tmp"), 0o1777)


@fixture.interop
@unittest.skipUnless(have_hylafax(), "hylafax-server not installed, or not root")
class TestHylaFAX(unittest.TestCase):
    n = 0

    def setUp(self):
        self.dir = os.path.join(fixture.BUILD, "itest", "vmodem-hylafax-%d-%s"
                                % (os.getpid(), self.id().rsplit(".", 1)[-1]))
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        make_spool(self.spool)
        TestHylaFAX.n += 1
        self.dev = "ttyVMhf%dx%d" % (os.getpid(), TestHylaFAX.n)   # no "_": HylaFAX maps it to "/"
        self.procs = []
        self.vm = vmodem.VModem(os.path.join(self.dir, "vm"), lines={},
                                faxes={"5559999": {"ecm": True, "id": "VIRTUAL FAX"}},
                                args=["-l", "/dev/%s=5551002" % self.dev], build=fixture.BUILD)
        self.vm.start()
        self.procs.append(self.vm)
        with open(os.path.join(self.spool, "etc", "config." + self.dev), "w") as f:
            f.write(CONFIG % {"number": "1002"})

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
        if os.path.islink("/dev/" + self.dev):
            os.unlink("/dev/" + self.dev)
        # faxgetty leaves its UUCP lock behind when it is stopped.
        lock = "/var/lock/LCK.." + self.dev
        if os.path.exists(lock):
            os.unlink(lock)

    def proc(self, cmd, name):
        p = fixture.Proc(cmd, name=name, out_dir=self.dir)
        self.procs.append(p)
        return p

    def wait_idle(self, timeout=30):
        status = os.path.join(self.spool, "status", self.dev)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(status) as f:
                    if "idle" in f.read():
                        return
            except FileNotFoundError:
                pass
            time.sleep(0.2)
        self.fail("faxgetty did not get the modem ready:\n" + self.logs())

    def logs(self):
        out = []
        for p in self.procs:
            if hasattr(p, "output"):
                out.append(p.output()[-3000:])
        logdir = os.path.join(self.spool, "log")
        for n in sorted(os.listdir(logdir))[-2:]:
            with open(os.path.join(logdir, n), errors="replace") as f:
                out.append(f.read()[-4000:])
        return "\n".join(out)

    def receive(self, ecm):
        self.proc([FAXGETTY, "-q", self.spool, "/dev/" + self.dev], "faxgetty")
        self.wait_idle()
        raw = os.path.join(self.dir, "page.tif")
        rows = vmodem.make_page(raw, height=700, seed=21)
        t0 = time.monotonic()
        self.vm.call("5551002", raw, ecm=ecm)
        rec = self.vm.wait_record("sent", 1, timeout=55)[0]
        secs = time.monotonic() - t0
        self.assertEqual((rec["pages"], rec["code"], rec["ecm"]), (1, 0, 1 if ecm else 0),
                         "%s\n%s" % (rec, self.logs()))
        recvq = os.path.join(self.spool, "recvq")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not [n for n in os.listdir(recvq)
                                                   if n.endswith(".tif")]:
            time.sleep(0.2)
        files = [n for n in os.listdir(recvq) if n.endswith(".tif")]
        self.assertEqual(len(files), 1, self.logs())
        pages = vmodem.read_pages(os.path.join(recvq, files[0]))
        self.assertEqual(len(pages), 1)
        self.assertEqual(len(pages[0][2]), len(rows))
        bad = [i for i in range(len(rows)) if pages[0][2][i] != rows[i]]
        self.assertEqual(bad, [], "%d rows differ" % len(bad))
        # faxgetty saw the caller ID the modem reported.
        self.assertRegex(self.logs(), r"5559999")
        print("  virtual fax machine -> HylaFAX faxgetty%s: %.1f s"
              % (" (ECM)" if ecm else "", secs))

    def test_virtual_fax_machine_to_faxgetty(self):
        self.receive(ecm=False)

    def test_virtual_fax_machine_to_faxgetty_ecm(self):
        self.receive(ecm=True)

    def test_sendfax_to_virtual_fax_machine(self):
        if not SENDFAX:
            self.skipTest("hylafax-client not installed")
        port = fixture.free_port()
        self.proc([FAXQ, "-q", self.spool, "-D"], "faxq")
        self.proc([HFAXD, "-q", self.spool, "-d", "-l", "127.0.0.1", "-i", str(port)], "hfaxd")
        self.proc([FAXGETTY, "-q", self.spool, "/dev/" + self.dev], "faxgetty")
        self.wait_idle()
        fixture.wait_listen(port, timeout=15)
        raw = os.path.join(self.dir, "raw.tif")
        g3 = os.path.join(self.dir, "page.tif")
        rows = vmodem.make_page(raw, height=700, seed=22)
        vmodem.to_g3(raw, g3)
        t0 = time.monotonic()
        r = fixture.run([SENDFAX, "-n", "-m", "-h", "127.0.0.1:%d" % port, "-d", "5559999", g3],
                        timeout=30, env={"FAXUSER": "root"})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rec = self.vm.wait_record("received", 1, timeout=55)[0]
        secs = time.monotonic() - t0
        self.assertEqual((rec["pages"], rec["code"]), (1, 0), "%s\n%s" % (rec, self.logs()))
        # HylaFAX and the machine agree on their best: ECM with MMR at 14400.
        self.assertEqual((rec["ecm"], rec["coding"], rec["rate"]), (1, "MMR", 14400), rec)
        got = vmodem.read_pages(rec["file"])[0][2]
        # -m: fine resolution, so HylaFAX sends the rows as they are (no tag line here).
        self.assertEqual(len(got), len(rows))
        bad = [i for i in range(len(rows)) if got[i] != rows[i]]
        self.assertEqual(bad, [], "%d rows differ" % len(bad))
        print("  HylaFAX sendfax -> virtual fax machine: %.1f s from sendfax, ecm=%d, %s"
              % (secs, rec["ecm"], rec))


if __name__ == "__main__":
    unittest.main()
