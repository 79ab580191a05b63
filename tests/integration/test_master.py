"""test_master.py: master, the daemon skeleton and the faxpost start/stop/status/reload/
check/conf commands, on private instances with the test daemon test-echod.

test-echod (master/test/echod.c) greets every client with its pid, uid and gid, so the
tests see which worker served them and with which privileges.
"""
import os
import pwd
import re
import signal
import socket
import time
import unittest

import fixture
from fixture import ECHOD, Instance, free_port


def greet(port, timeout=10):
    """Connect, read the greeting, QUIT. Returns {'pid':..,'uid':..,'gid':..,'service':..}."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                line = s.makefile("rb").readline().decode()
                s.sendall(b"QUIT\r\n")
            m = re.match(r"echod pid=(\d+) uid=(\d+) gid=(\d+) service=(\S+)", line)
            if m:
                return {"pid": int(m[1]), "uid": int(m[2]), "gid": int(m[3]),
                        "service": m[4]}
            last = "bad greeting %r" % line
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError("no echod greeting on port %d: %s" % (port, last))


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid in /proc/%d/status" % pid)


def listen_inode(port):
    """Inode of the socket listening on 127.0.0.1:port (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            p = line.split()
            if p[3] == "0A" and int(p[1].rsplit(":", 1)[1], 16) == port:
                return int(p[9])
    return None


def echo_instance(name, services, **params):
    return Instance(name, services, daemons={"test-echod": ECHOD}, **params)


def count(lines, regex):
    return sum(1 for l in lines if re.search(regex, l))


class MasterTest(unittest.TestCase):

    def test_start_stop_and_workers(self):
        port = free_port()
        inst = echo_instance("ms", ["127.0.0.1:%d inet n - n - 2 test-echod" % port,
                                    "echo unix - - n - 1 test-echod"])
        with inst:
            inst.wait_log(r"daemon started -- version \S+, configuration %s" %
                          re.escape(inst.etc))
            g = greet(port)
            self.assertEqual(g["service"], "127.0.0.1:%d" % port)
            deadline = time.monotonic() + 5
            while len(inst.children()) != 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            kids = inst.children()
            self.assertEqual(len(kids), 3, kids)
            self.assertIn(g["pid"], kids)
            sock = os.path.join(inst.queue, "private", "echo")
            self.assertTrue(os.path.exists(sock))
            for state in ("tmp", "incoming", "active", "deferred", "hold", "corrupt", "free"):
                self.assertTrue(os.path.isdir(os.path.join(inst.queue, state)), state)
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            self.assertTrue(s.makefile("rb").readline().startswith(b"echod pid="))
            s.close()
            mpid = inst.master_pid()
        self.assertEqual(inst.master.returncode, 0)
        inst.wait_log(r"faxpost/master\[%d\]: terminating on signal 15" % mpid)
        for k in kids:
            self.assertFalse(os.path.exists("/proc/%d/stat" % k) and
                             fixture._proc_stat(k) is not None, "worker %d survived" % k)

    def test_cli_start_status_stop(self):
        port = free_port()
        inst = echo_instance("mc", ["127.0.0.1:%d inet n - n - 1 test-echod" % port])
        try:
            r = inst.faxpost("status")
            self.assertEqual(r.returncode, 1)
            self.assertIn("not running", r.stderr)
            r = inst.faxpost("start")
            self.assertEqual(r.returncode, 0, r.stderr)
            greet(port)
            r = inst.faxpost("status")
            self.assertEqual(r.returncode, 0, r.stderr)
            m = re.search(r"running: PID: (\d+)", r.stdout)
            self.assertTrue(m, r.stdout)
            with open(inst.pid_file) as f:
                self.assertEqual(int(f.read()), int(m[1]))
            r = inst.faxpost("start")
            self.assertEqual(r.returncode, 1)
            self.assertIn("already running", r.stderr)
            kids = inst.children()
            r = inst.faxpost("stop")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = inst.faxpost("status")
            self.assertEqual(r.returncode, 1)
            time.sleep(0.2)
            self.assertFalse([k for k in kids if fixture._proc_stat(k)], "workers left")
            r = inst.faxpost("stop")
            self.assertEqual(r.returncode, 1)
        finally:
            inst.stop()

    def test_workers_leave_when_master_dies(self):
        port = free_port()
        with echo_instance("md", ["127.0.0.1:%d inet n - n - 2 test-echod" % port,
                                  "echo unix - - n - 1 test-echod"]) as inst:
            greet(port)
            deadline = time.monotonic() + 5
            while len(inst.children()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            kids = inst.children()
            self.assertEqual(len(kids), 3)
            os.kill(inst.master.pid, signal.SIGKILL)
            inst.master.wait(5)
            # The status pipe breaks: every single server exits on its own.
            deadline = time.monotonic() + 5
            while [k for k in kids if fixture._proc_stat(k)] and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual([k for k in kids if fixture._proc_stat(k)], [])

    def test_second_master_refused(self):
        port = free_port()
        with echo_instance("m2", ["127.0.0.1:%d inet n - n - 1 test-echod" % port]) as inst:
            r = fixture.run([os.path.join(fixture.LIBEXEC, "master"), "-c", inst.etc, "-f"],
                            timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn("already running (pid %d)" % inst.master.pid, r.stderr)
            greet(port)  # the first master is unharmed

    def test_restart_killed_worker(self):
        port = free_port()
        with echo_instance("mk", ["127.0.0.1:%d inet n - n - 1 test-echod" % port]) as inst:
            first = greet(port)
            time.sleep(3.2)  # older than a bad start
            os.kill(first["pid"], signal.SIGKILL)
            inst.wait_log(r"process \S+test-echod pid %d killed by signal 9" % first["pid"])
            second = greet(port)
            self.assertNotEqual(first["pid"], second["pid"])
            self.assertEqual(count(inst.log_lines(), "throttling"), 0)

    def test_idle_worker_replaced(self):
        port = free_port()
        with echo_instance("mi", ["127.0.0.1:%d inet n - n - 1 test-echod" % port],
                           max_idle="1s") as inst:
            first = greet(port)
            inst.wait_log(r"echod\[%d\]: idle for 1s, exiting" % first["pid"], timeout=5)
            second = greet(port)
            self.assertNotEqual(first["pid"], second["pid"])
            self.assertEqual(count(inst.log_lines(), "throttling|exit status"), 0)

    def test_max_use_one_paced_not_throttled(self):
        port = free_port()
        with echo_instance("mu1", ["127.0.0.1:%d inet n - n - 1 test-echod -o max_use=1"
                                   % port]) as inst:
            t0 = time.monotonic()
            pids = [greet(port)["pid"] for _ in range(3)]
            self.assertEqual(len(set(pids)), 3, pids)
            # clean instant exits are replaced at most once a second per process
            self.assertGreaterEqual(time.monotonic() - t0, 1.5)
            self.assertEqual(count(inst.log_lines(), "throttling|exit status"), 0)

    def test_bad_start_throttled_without_fork_loop(self):
        good, bad = free_port(), free_port()
        inst = echo_instance("mt", [
            "127.0.0.1:%d inet n - n - 1 test-echod" % good,
            "127.0.0.1:%d inet n - n - 2 test-echod -o max_use=bogus" % bad,
        ], service_throttle_time="2s")
        with inst:
            inst.wait_log(r"-o max_use=bogus: .*max_use")
            inst.wait_log(r"test-echod: bad command startup -- throttling")
            t0 = time.monotonic()
            time.sleep(5)
            lines = inst.log_lines()
            starts = count(lines, r"exit status 1")
            # 2 processes per attempt, one attempt per 2 s throttle: a few, never a loop;
            # and the throttle does end (the service is tried again).
            self.assertGreaterEqual(starts, 4, "\n".join(lines))
            self.assertLessEqual(starts, 2 * (int((time.monotonic() - t0) / 2) + 2),
                                 "\n".join(lines))
            greet(good)  # the other service is unaffected

    def test_reload_keeps_listener(self):
        port, port2 = free_port(), free_port()
        inst = echo_instance("mr", ["127.0.0.1:%d inet n - n - 1 test-echod" % port,
                                    "old unix - - n - 1 test-echod"])
        with inst:
            before = greet(port)
            inode = listen_inode(port)
            self.assertIsNotNone(inode)
            # A session in progress survives the reload.
            busy = socket.create_connection(("127.0.0.1", port), timeout=5)
            busy_f = busy.makefile("rb")
            busy_greet = busy_f.readline()
            inst.write_master_cf(["127.0.0.1:%d inet n - n - 1 test-echod" % port,
                                  "127.0.0.1:%d inet n - n - 1 test-echod" % port2])
            mark = inst.log_mark()
            r = inst.faxpost("reload")
            self.assertEqual(r.returncode, 0, r.stderr)
            inst.wait_log(r"reload -- version", since=mark)
            fixture.wait_listen(port2)
            self.assertEqual(listen_inode(port), inode, "listener was re-created")
            busy.sendall(b"still there\r\n")
            self.assertEqual(busy_f.readline(), b"still there\r\n")
            busy.sendall(b"QUIT\r\n")
            busy.close()
            self.assertTrue(busy_greet.startswith(b"echod pid="))
            after = greet(port)
            self.assertNotEqual(before["pid"], after["pid"])
            greet(port2)
            deadline = time.monotonic() + 5
            while os.path.exists(os.path.join(inst.queue, "private", "old")) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(os.path.exists(os.path.join(inst.queue, "private", "old")))
            self.assertEqual(count(inst.log_lines(), "throttling"), 0)
            # main.cf changes reach the new workers.
            self.assertEqual(inst.faxpost("conf", "max_idle=1s").returncode, 0)
            mark = inst.log_mark()
            self.assertEqual(inst.faxpost("reload").returncode, 0)
            inst.wait_log(r"echod\[\d+\]: idle for 1s, exiting", since=mark, timeout=8)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_chroot(self):
        port = free_port()
        with echo_instance("mj", ["127.0.0.1:%d inet n - y - 1 test-echod" % port]) as inst:
            g = greet(port)
            self.assertEqual(os.readlink("/proc/%d/root" % g["pid"]),
                             os.path.realpath(inst.queue))
            inst.wait_log(r"echod\[%d\]: served a client" % g["pid"])

    def test_reload_refuses_bad_master_cf(self):
        port = free_port()
        with echo_instance("mb", ["127.0.0.1:%d inet n - n - 1 test-echod" % port]) as inst:
            inst.write_master_cf(["127.0.0.1:%d inet n - n - 1 test-echod" % port,
                                  "x tcp - - n - 1 test-echod"])
            r = inst.faxpost("reload")
            self.assertEqual(r.returncode, 1)
            self.assertIn("%s/master.cf:3:" % inst.etc, r.stderr)
            greet(port)
            # A SIGHUP that bypasses the check: master keeps what runs.
            mark = inst.log_mark()
            os.kill(inst.master.pid, signal.SIGHUP)
            inst.wait_log(r"error: reload: master.cf:3: .*keeping the running configuration",
                          since=mark)
            inst.write_main_cf(max_idle="soon")
            r = inst.faxpost("reload")
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr, r"main.cf:\d+: .*max_idle")
            os.kill(inst.master.pid, signal.SIGHUP)
            inst.wait_log(r"error: reload: main.cf:\d+: .*keeping the running configuration",
                          since=mark)
            greet(port)
            self.assertTrue(inst.master.alive())

    def test_config_errors_reported(self):
        port = free_port()
        inst = echo_instance("me", ["127.0.0.1:%d inet n - n - 1 test-echod" % port],
                             max_use="lots")
        try:
            lines = open(os.path.join(inst.etc, "main.cf")).read().splitlines()
            lineno = 1 + next(i for i, l in enumerate(lines) if l.startswith("max_use"))
            r = inst.faxpost("start")
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr, r"%s/main.cf:%d: .*max_use" % (re.escape(inst.etc),
                                                                        lineno))
            r = inst.faxpost("check")
            self.assertEqual(r.returncode, 1)
            r = fixture.run([os.path.join(fixture.LIBEXEC, "master"), "-c", inst.etc, "-f"])
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr, r"main.cf:%d: .*max_use" % lineno)
            # Repair through faxpost conf, then break master.cf.
            r = inst.faxpost("conf", "max_use=10")
            self.assertEqual(r.returncode, 0, r.stderr)
            inst.write_master_cf(["127.0.0.1:%d inet n - n - 1 test-echod" % port,
                                  "x tcp - - n - 1 test-echod"])
            r = inst.faxpost("start")
            self.assertEqual(r.returncode, 1)
            self.assertIn("%s/master.cf:3:" % inst.etc, r.stderr)
            self.assertEqual(inst.faxpost("status").returncode, 1)
            # A missing program is a check error naming the master.cf line.
            inst.write_master_cf(["127.0.0.1:%d inet n - n - 1 no-such-daemon" % port])
            r = inst.faxpost("check")
            self.assertEqual(r.returncode, 1)
            self.assertIn("master.cf:2: service 127.0.0.1:%d/inet" % port, r.stderr)
        finally:
            inst.stop()

    def test_port_in_use_fails_start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            inst = echo_instance("mp", ["127.0.0.1:%d inet n - n - 1 test-echod" % port])
            try:
                r = inst.faxpost("start")
                self.assertEqual(r.returncode, 1)
                self.assertIn("Address already in use", r.stderr)
                self.assertEqual(inst.faxpost("status").returncode, 1)
            finally:
                inst.stop()

    def test_wakeup(self):
        with echo_instance("mw", ["tick unix - - n 1 1 test-echod"]) as inst:
            inst.wait_log(r"echod\[\d+\]: wakeup", timeout=5)

    def test_trigger_services(self):
        """unix-dgram and fifo services: master makes the endpoint, the single-server
        skeleton hands the readable descriptor to serve()."""
        with echo_instance("mg", ["trig unix-dgram - - n - 1 test-echod",
                                  "fifo fifo n - n - 1 test-echod"]) as inst:
            path = os.path.join(inst.queue, "private", "trig")
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(b"W", path)
            inst.wait_log(r"echod\[\d+\]: trigger W")
            fifo = os.path.join(inst.queue, "public", "fifo")
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"F")
            os.close(fd)
            inst.wait_log(r"echod\[\d+\]: trigger F")
            self.assertEqual(count(inst.log_lines(), "throttling|exit status"), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_privilege_drop(self):
        nobody = pwd.getpwnam("nobody")
        port, port2 = free_port(), free_port()
        inst = echo_instance("mu", ["127.0.0.1:%d inet n - n - 1 test-echod" % port,
                                    "127.0.0.1:%d inet n n n - 1 test-echod" % port2],
                             mail_owner="nobody")
        with inst:
            g = greet(port)
            self.assertEqual((g["uid"], g["gid"]), (nobody.pw_uid, nobody.pw_gid))
            self.assertEqual(proc_uid(g["pid"]), nobody.pw_uid)
            self.assertEqual(proc_uid(inst.master.pid), 0)
            g2 = greet(port2)  # unpriv = n keeps root
            self.assertEqual(g2["uid"], 0)
            for state in ("incoming", "tmp", "private"):
                st = os.stat(os.path.join(inst.queue, state))
                self.assertEqual(st.st_uid, nobody.pw_uid, state)
                self.assertEqual(st.st_mode & 0o777, 0o700, state)
            self.assertEqual(os.stat(inst.log_path).st_uid, nobody.pw_uid)
            # Workers that dropped privileges still log.
            inst.wait_log(r"echod\[%d\]: served a client" % g["pid"])

    def test_standalone(self):
        inst = echo_instance("sa", [])
        p = inst.standalone("test-echod")
        with p:
            g = greet(p.port)
            self.assertEqual(g["pid"], p.pid)
        self.assertFalse(p.alive())


class ConfTest(unittest.TestCase):

    def test_conf_show_and_edit(self):
        inst = Instance("cf", [])
        r = inst.faxpost("conf", "-n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("myhostname = faxpost.test", r.stdout.splitlines())
        self.assertNotIn("max_use", r.stdout)
        r = inst.faxpost("conf", "-d", "max_idle", "service_throttle_time")
        self.assertEqual(r.stdout.splitlines(), ["max_idle = 100s",
                                                 "service_throttle_time = 60s"])
        r = inst.faxpost("conf", "max_use=7", "myorigin=$myhostname")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = open(os.path.join(inst.etc, "main.cf")).read()
        self.assertIn("max_use = 7\n", text)
        self.assertTrue(text.startswith("# written by"), "comment kept")
        self.assertEqual(inst.faxpost("conf", "-h", "max_use").stdout, "7\n")
        self.assertEqual(inst.faxpost("conf", "myorigin").stdout, "myorigin = $myhostname\n")
        self.assertEqual(inst.faxpost("conf", "-x", "myorigin").stdout,
                         "myorigin = faxpost.test\n")
        r = inst.faxpost("conf", "max_use=many")
        self.assertEqual(r.returncode, 1)
        self.assertIn("max_use", r.stderr)
        self.assertEqual(open(os.path.join(inst.etc, "main.cf")).read(), text)
        r = inst.faxpost("conf", "no_such_parameter")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown parameter", r.stderr)
        r = inst.faxpost("conf", "-q")
        self.assertEqual(r.returncode, 2)
        r = inst.faxpost("conf")
        self.assertEqual(r.returncode, 0)
        names = [l.split(" =")[0] for l in r.stdout.splitlines()]
        self.assertIn("queue_directory", names)
        self.assertEqual(len(names), len(set(names)))

    def test_help_everywhere(self):
        inst = Instance("hp", [])
        r = inst.faxpost("--help")
        self.assertEqual(r.returncode, 0)
        cmds = re.findall(r"^  (\w+) ", r.stdout.split("commands:")[1], re.M)
        for c in ("start", "stop", "reload", "status", "check", "conf"):
            self.assertIn(c, cmds)
        for c in cmds:
            r = inst.faxpost(c, "--help")
            self.assertEqual(r.returncode, 0, "%s --help: %s" % (c, r.stderr))
            self.assertIn("usage", r.stdout.lower(), c)
        r = inst.faxpost("no-such-command")
        self.assertEqual(r.returncode, 2)
        # $FAXPOST_CONFIG instead of -c
        r = fixture.run([fixture.FAXPOST, "conf", "-h", "myhostname"],
                        env={"FAXPOST_CONFIG": inst.etc})
        self.assertEqual(r.stdout, "faxpost.test\n")
