"""fixture.py: what every faxpost integration test builds on (Python stdlib only).

API
---
ECHOD                       path of the test daemon test-echod (see daemons= below).
BUILD, SRC                  absolute build dir ($FAXPOST_BUILD, default SRC/build) and
                            source dir ($FAXPOST_SRC).
free_port(host="127.0.0.1") a TCP port that is free now (never the same twice per run),
                            random, below the ephemeral range.
run(cmd, timeout=30, input=None, env=None, check=False)
                            subprocess.run with text output captured and a timeout.
interop                     decorator: skip unless FAXPOST_INTEROP=1 (make interop).
make_ca(dirpath)            a test CA and a server cert for 127.0.0.1/localhost (openssl
                            command); returns dict(ca_cert, ca_key, cert, key, chain).
wait_listen(port, timeout=10, host=None, proc=None)
                            wait until something LISTENs on TCP port (reads /proc/net/tcp*,
                            makes no connection); with proc=Proc, fail fast with its
                            output when it died.

Proc(cmd, name=None, env=None, cwd=None, stdin=None)
    Starts cmd in its own process group; stdout+stderr go to .out_path (a file).
    .pid  .alive()  .output()  .wait(timeout) -> exit status or None
    .wait_listen(port, timeout=10)   wait_listen(port, proc=self)
    .stop(timeout=5)  SIGTERM by pid, bounded wait, then SIGKILL of the pid, its group and
                      any descendant still alive. Context manager (stop on exit).

Instance(name, services=(), params=None, daemons=None, **kw)
    A private faxpost instance in BUILD/itest/<name>-<pid>-<n>/ with etc/main.cf,
    etc/master.cf, queue/, data/, log/faxpost.log. main.cf gets absolute paths
    (queue_directory, data_directory, daemon_directory = BUILD/libexec, maillog_file),
    mail_owner = the current user, myhostname = faxpost.test, then
    params/kw (kw: name=value, values str or int). services: master.cf lines, e.g.
    "%d inet n - n - 1 smtpd" % port. daemons: {name: path} of extra programs (e.g.
    ECHOD); the instance then gets its own daemon_directory DIR/libexec holding links to
    BUILD/libexec/* and to these.
    .dir .etc .queue .data .log_path .pid_file
    .write_main_cf(**params)   rewrite main.cf (base + params given at creation + these)
    .write_master_cf(lines)    rewrite master.cf
    .inet_ports()              the TCP ports master.cf asks master to listen on
    .start(timeout=15)         runs `BUILD/libexec/master -c ETC -f`, waits until every
                               inet port listens and the log says "daemon started";
                               raises RuntimeError (with master's stderr and the log)
                               if master exits or the wait times out.
    .stop(timeout=10)          SIGTERM master by pid, bounded wait, SIGKILL of master, its
                               process group and every descendant still alive. Also stops
                               a master started by `faxpost start` (pid file).
    .master_pid()              pid of the running master (our child or the pid file)
    .children()                pids of master's descendants (/proc scan)
    .log_lines()               the log file as a list of lines
    .log_mark()                the current number of log lines, for wait_log(since=)
    .wait_log(regex, timeout=10, since=0)
                               re.Match of the first line (index >= since) matching regex;
                               AssertionError with the log tail on timeout
    .queue_files(state)        sorted names in queue/<state> ([] if the folder is missing)
    .faxpost(*args, input=None, timeout=30, env=None)
                               runs BUILD/bin/faxpost -c ETC args; CompletedProcess (text)
    .standalone(prog, *args, listen=None)
                               runs DAEMON_DIR/prog -c ETC -S listen args (listen default
                               127.0.0.1:<free port>); a Proc with .port and .listen set;
                               waits until it listens (TCP) or the socket exists (path).
    Context manager: `with Instance(...) as inst:` starts (if not started) and stops.
    Whatever a test forgets to stop (Proc, Instance) is stopped when Python exits.

standalone(prog, *args, listen=None, params=None)
    One daemon with -S on a fresh (not started) Instance named prog (its config folder,
    log and queue); returns the Proc (.inst is that instance). Stop it with .stop().
"""
import atexit
import itertools
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

SRC = os.path.abspath(os.environ.get("FAXPOST_SRC")
                      or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.abspath(os.environ.get("FAXPOST_BUILD") or os.path.join(SRC, "build"))
LIBEXEC = os.path.join(BUILD, "libexec")
FAXPOST = os.path.join(BUILD, "bin", "faxpost")
# A tiny single-server daemon on the skeleton (master/test/echod.c): greets each client
# with "echod pid=N uid=U gid=G service=NAME" and echoes lines until QUIT.
ECHOD = os.path.join(BUILD, "libexec-test", "test-echod")

interop = unittest.skipUnless(os.environ.get("FAXPOST_INTEROP") == "1",
                              "interop test (make interop)")

_issued_ports = set()
_counter = itertools.count(1)
_live = {}  # id -> Proc or Instance still running; stopped at exit if a test forgot


@atexit.register
def _stop_leftovers():
    for obj in list(_live.values()):
        try:
            obj.stop(timeout=2)
        except Exception:
            pass


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = f.read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host="127.0.0.1"):
    """A TCP port free right now on host, never handed out twice in this process.
    Chosen at random below the kernel's ephemeral range, so that no outgoing
    connection (of this or a concurrent test run) takes it before the server binds."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    lo, _ = _ephemeral_range()
    top = lo - 1 if lo > 12000 else 60999
    for _ in range(200):
        port = random.randint(10000, top)
        if port in _issued_ports:
            continue
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _issued_ports.add(port)
        return port
    raise RuntimeError("free_port: no free port after 200 tries")


def run(cmd, timeout=30, input=None, env=None, check=False, cwd=None):
    e = None
    if env:
        e = dict(os.environ)
        e.update(env)
    return subprocess.run(cmd, input=input, capture_output=True, text=True,
                          timeout=timeout, env=e, check=check, cwd=cwd)


def _listening_ports():
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "0A":
                        ports.add(int(parts[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def wait_listen(port, timeout=10, host=None, proc=None):
    """Wait until TCP port is in LISTEN state; no connection is made. With proc (a
    Proc), fail at once, with its output, when that process has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port in _listening_ports():
            return True
        if proc is not None and not proc.alive():
            raise AssertionError("%s exited (status %s) before listening on port %d:\n%s"
                                 % (proc.name, proc.wait(1), port, proc.output()))
        time.sleep(0.05)
    raise AssertionError("nothing listens on port %d after %ss%s" % (
        port, timeout, "" if proc is None else "; %s output:\n%s" % (proc.name, proc.output())))


# --- processes -----------------------------------------------------------------------

def _proc_stat(pid):
    """(ppid, pgid, starttime) of pid, or None when it is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[1]), int(rest[2]), int(rest[19])


def _all_pids():
    for d in os.listdir("/proc"):
        if d.isdigit():
            yield int(d)


def descendants(pid):
    """{pid: starttime} of every live descendant of pid (/proc scan)."""
    parent = {}
    start = {}
    for p in _all_pids():
        st = _proc_stat(p)
        if st:
            parent[p] = st[0]
            start[p] = st[2]
    out = {}
    changed = True
    want = {pid}
    while changed:
        changed = False
        for p, pp in parent.items():
            if pp in want and p not in want:
                want.add(p)
                out[p] = start[p]
                changed = True
    return out


def group_members(pgid):
    return [p for p in _all_pids() if (_proc_stat(p) or (0, -1, 0))[1] == pgid]


def _kill_tree(pid, pgid, known, sig=signal.SIGKILL):
    """Kill pid, the members of process group pgid, and the known {pid: starttime}
    descendants that are still the same processes (start time unchanged)."""
    for p, t in list(known.items()):
        st = _proc_stat(p)
        if st and st[2] == t:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
    if pgid and pgid > 1 and pgid != os.getpgrp():
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _stop_pid(pid, popen=None, timeout=5):
    """SIGTERM pid, wait up to timeout, then SIGKILL what is left of it and its tree.
    Returns the exit status when pid is our child (popen), else None."""
    st = _proc_stat(pid)
    if st is None:
        return popen.wait(timeout=5) if popen else None
    pgid = st[1]
    known = descendants(pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    rc = None
    while time.monotonic() < deadline:
        if popen is not None:
            rc = popen.poll()
            if rc is not None:
                break
        elif _proc_stat(pid) is None:
            break
        time.sleep(0.05)
    known.update(descendants(pid))
    _kill_tree(pid, pgid, known)
    if popen is not None and rc is None:
        try:
            rc = popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
    # Give the kernel a moment to reap whatever SIGKILL hit.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(_proc_stat(p) for p in known):
        time.sleep(0.02)
    return rc


class Proc:
    """A command run in its own process group, output to a file, stopped by pid."""

    def __init__(self, cmd, name=None, env=None, cwd=None, stdin=None, out_dir=None):
        self.cmd = [str(c) for c in cmd]
        self.name = name or os.path.basename(self.cmd[0])
        out_dir = out_dir or os.path.join(BUILD, "itest", "procs")
        os.makedirs(out_dir, exist_ok=True)
        self.out_path = os.path.join(out_dir, "%s-%d-%d.out" % (self.name, os.getpid(),
                                                                 next(_counter)))
        e = None
        if env:
            e = dict(os.environ)
            e.update(env)
        self._out = open(self.out_path, "wb")
        self.popen = subprocess.Popen(self.cmd, stdout=self._out, stderr=subprocess.STDOUT,
                                      stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                      env=e, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        self.returncode = None
        _live[id(self)] = self

    def alive(self):
        return self.popen.poll() is None

    def wait_listen(self, port, timeout=10):
        return wait_listen(port, timeout, proc=self)

    def wait(self, timeout=10):
        try:
            self.returncode = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=5):
        if self.returncode is None:
            self.returncode = _stop_pid(self.pid, self.popen, timeout)
        if not self._out.closed:
            self._out.close()
        _live.pop(id(self), None)
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        try:
            if self.returncode is None and self.popen.poll() is None:
                self.stop(timeout=1)
        except Exception:
            pass


# --- instances ------------------------------------------------------------------------

def _fmt(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


class Instance:
    def __init__(self, name, services=(), params=None, daemons=None, **kw):
        self.name = name
        self.dir = os.path.join(BUILD, "itest", "%s-%d-%d" % (name, os.getpid(), next(_counter)))
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.log_dir = os.path.join(self.dir, "log")
        self.log_path = os.path.join(self.log_dir, "faxpost.log")
        self.pid_file = os.path.join(self.data, "master.pid")
        for d in (self.etc, self.queue, self.data, self.log_dir):
            os.makedirs(d, exist_ok=True)
        # Instance folders must be reachable by mail_owner when a test drops privileges.
        for d in (self.dir, self.etc, self.log_dir):
            os.chmod(d, 0o755)
        self.params = {}
        if daemons:
            self._daemon_dir(daemons)
        self.params.update(params or {})
        self.params.update(kw)
        self.master = None
        self.write_main_cf()
        self.write_master_cf(services)

    def _daemon_dir(self, daemons):
        """A private daemon_directory: links to BUILD/libexec/* plus extra programs."""
        d = os.path.join(self.dir, "libexec")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        progs = {}
        if os.path.isdir(LIBEXEC):
            progs.update({n: os.path.join(LIBEXEC, n) for n in os.listdir(LIBEXEC)})
        progs.update(daemons)
        for n, target in progs.items():
            os.symlink(target, os.path.join(d, n))
        self.params["daemon_directory"] = d

    # configuration
    def base_params(self):
        return {
            "queue_directory": self.queue,
            "data_directory": self.data,
            "daemon_directory": LIBEXEC,
            "maillog_file": self.log_path,
            "mail_owner": pwd.getpwuid(os.getuid()).pw_name,
            "myhostname": "faxpost.test",
        }

    def write_main_cf(self, **params):
        self.params.update(params)
        p = self.base_params()
        p.update(self.params)
        lines = ["# written by tests/integration/fixture.py"]
        for k, v in p.items():
            lines.append("%s = %s" % (k, _fmt(v)))
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def write_master_cf(self, lines):
        self.services = list(lines)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("# written by tests/integration/fixture.py\n")
            for line in self.services:
                f.write(line.rstrip("\n") + "\n")

    def inet_ports(self):
        ports = []
        for line in self.services:
            cols = line.split()
            if len(cols) >= 2 and not line[:1].isspace() and not cols[0].startswith("#") \
                    and cols[1] == "inet":
                port = cols[0].rsplit(":", 1)[-1]
                if port.isdigit():
                    ports.append(int(port))
        return ports

    # master
    def start(self, timeout=15):
        if self.master is not None and self.master.alive():
            return self
        mark = self.log_mark()
        self.master = Proc([os.path.join(LIBEXEC, "master"), "-c", self.etc, "-f"],
                           name="master", out_dir=self.log_dir)
        _live[id(self)] = self
        deadline = time.monotonic() + timeout
        try:
            self._wait_started(mark, deadline)
            for port in self.inet_ports():
                wait_listen(port, max(0.1, deadline - time.monotonic()), proc=self.master)
        except AssertionError as e:
            out = self.master.output()
            self.stop()
            raise RuntimeError("master did not start: %s\n--- master output:\n%s\n--- log:\n%s"
                               % (e, out, "\n".join(self.log_lines()[-30:])))
        return self

    def _wait_started(self, mark, deadline):
        pat = re.compile(r"daemon started")
        while time.monotonic() < deadline:
            if not self.master.alive():
                raise AssertionError("master exited with status %s" % self.master.wait(1))
            if any(pat.search(l) for l in self.log_lines()[mark:]):
                return
            time.sleep(0.05)
        raise AssertionError("no 'daemon started' in the log")

    def master_pid(self):
        if self.master is not None and self.master.alive():
            return self.master.pid
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _proc_stat(pid) else None

    def children(self):
        pid = self.master_pid()
        return sorted(descendants(pid)) if pid else []

    def stop(self, timeout=10):
        if self.master is not None:
            self.master.stop(timeout)
        pid = self.master_pid()
        if pid:
            _stop_pid(pid, None, timeout)
        _live.pop(id(self), None)
        return self

    def __enter__(self):
        if self.master is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # observation
    def log_lines(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return []

    def log_mark(self):
        return len(self.log_lines())

    def wait_log(self, regex, timeout=10, since=0):
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_lines()
            for line in lines[since:]:
                m = pat.search(line)
                if m:
                    return m
            if time.monotonic() >= deadline:
                raise AssertionError("no log line matches %r after %ss; log tail:\n%s"
                                     % (regex, timeout, "\n".join(lines[-25:])))
            time.sleep(0.05)

    def queue_files(self, state):
        try:
            return sorted(f for f in os.listdir(os.path.join(self.queue, state))
                          if not f.startswith("."))
        except FileNotFoundError:
            return []

    # commands
    def faxpost(self, *args, input=None, timeout=30, env=None):
        if args and args[0] == "start":
            _live[id(self)] = self  # a detached master: stop it at exit if forgotten
        return run([FAXPOST, "-c", self.etc] + [str(a) for a in args],
                   timeout=timeout, input=input, env=env)

    def standalone(self, prog, *args, listen=None, timeout=10):
        port = None
        if listen is None:
            port = free_port()
            listen = "127.0.0.1:%d" % port
        elif not listen.startswith("/"):
            port = int(listen.rsplit(":", 1)[-1])
        ddir = self.params.get("daemon_directory", LIBEXEC)
        p = Proc([os.path.join(ddir, prog), "-c", self.etc, "-S", listen] + list(args),
                 name=prog, out_dir=self.log_dir)
        p.port, p.listen, p.inst = port, listen, self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not p.alive():
                raise RuntimeError("%s -S exited with %s:\n%s" % (prog, p.wait(1), p.output()))
            if port is not None and port in _listening_ports():
                return p
            if port is None and _unix_listening(listen):
                return p
            time.sleep(0.05)
        out = p.output()
        p.stop()
        raise RuntimeError("%s -S %s not listening after %ss:\n%s" % (prog, listen, timeout, out))


def _unix_listening(path):
    """Is a UNIX stream socket at path in the listening state? (bind() makes the path
    before listen(), so its existence alone is too early.) Reads /proc/net/unix."""
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                # Num RefCount Protocol Flags Type St Inode [Path]; Flags 00010000 = listening
                if len(parts) >= 8 and parts[7] == path and int(parts[3], 16) & 0x10000:
                    return True
    except OSError:
        pass
    return False


def standalone(prog, *args, listen=None, params=None):
    inst = Instance(prog, params=params)
    return inst.standalone(prog, *args, listen=listen)


def make_ca(dirpath):
    """A test CA and a server certificate (127.0.0.1, ::1, localhost) signed by it."""
    os.makedirs(dirpath, exist_ok=True)
    j = lambda n: os.path.join(dirpath, n)
    ext = j("san.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost\n"
                "basicConstraints = CA:FALSE\n"
                "keyUsage = digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth, clientAuth\n")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", j("ca.key"), "-out", j("ca.crt"), "-days", "30",
         "-subj", "/CN=faxpost test CA"],
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", j("server.key"), "-out", j("server.csr"),
         "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", j("server.csr"), "-CA", j("ca.crt"),
         "-CAkey", j("ca.key"), "-CAcreateserial", "-out", j("server.crt"), "-days", "30",
         "-extfile", ext],
    ]
    for cmd in steps:
        r = run(cmd, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr))
    with open(j("chain.pem"), "w") as out:
        for n in ("server.crt", "ca.crt"):
            with open(j(n)) as f:
                out.write(f.read())
    for n in ("ca.key", "server.key"):
        os.chmod(j(n), 0o644)  # tests may run the server as an unprivileged mail_owner
    return {"ca_cert": j("ca.crt"), "ca_key": j("ca.key"), "cert": j("server.crt"),
            "key": j("server.key"), "chain": j("chain.pem")}
