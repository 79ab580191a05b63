"""dovecot_peer.py: a private Dovecot POP3 server for integration tests.

Dovecot(workdir, users={"fax": "secret"}, tls=None, apop=False)
    Writes a dovecot.conf in workdir (base_dir, state, log, maildirs all inside it),
    listens on 127.0.0.1 with free ports: .pop3_port (plain, STLS offered when tls is
    given) and .pop3s_port (implicit TLS, when tls is given). tls: dict(cert=, key=)
    as fixture.make_ca() returns. Passwords are stored in plain text so that APOP
    works (auth_mechanisms apop). Maildirs belong to the `mail` user (Dovecot refuses
    to run mail processes as root).
    .start() / .stop() (SIGTERM by pid, bounded), context manager.
    .deliver(user, message_bytes, name=None)   drop a message into the user's Maildir
    .count(user)                               messages left in new/ + cur/
    .log()                                     the Dovecot log text
"""
import grp
import os
import pwd
import shutil
import tempfile
import time

import fixture


class Dovecot:
    def __init__(self, workdir, users=None, tls=None, apop=False):
        self.dir = os.path.abspath(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.users = users or {"fax": "secret"}
        self.tls = tls
        self.apop = apop
        self.pop3_port = fixture.free_port()
        self.pop3s_port = fixture.free_port() if tls else 0
        self.uid = pwd.getpwnam("mail").pw_uid
        self.gid = grp.getgrnam("mail").gr_gid
        self.proc = None
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self._seq = 0
        # UNIX socket paths are limited to 108 bytes: keep Dovecot's base_dir short
        self.run_dir = tempfile.mkdtemp(prefix="fpdv")
        os.chmod(self.run_dir, 0o755)
        for sub in ("state", "mail"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.chmod(self.dir, 0o755)
        for user in self.users:
            for sub in ("new", "cur", "tmp"):
                os.makedirs(self.maildir(user, sub), exist_ok=True)
        self._chown_mail()
        self._write_conf()

    def maildir(self, user, sub=""):
        return os.path.join(self.dir, "mail", user, sub)

    def _chown_mail(self):
        for root, dirs, files in os.walk(os.path.join(self.dir, "mail")):
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.gid)
        os.chown(os.path.join(self.dir, "mail"), self.uid, self.gid)

    def _write_conf(self):
        d = self.dir
        with open(os.path.join(d, "passwd"), "w") as f:
            for user, pw in self.users.items():
                f.write("%s:{PLAIN}%s\n" % (user, pw))
        mechs = "plain login" + (" apop" if self.apop else "")
        ssl = "no"
        ssl_lines = ""
        listeners = "  inet_listener pop3 {\n    address = 127.0.0.1\n    port = %d\n  }\n" % self.pop3_port
        if self.tls:
            ssl = "yes"
            ssl_lines = "ssl_cert = <%s\nssl_key = <%s\nssl_min_protocol = TLSv1.2\n" % (
                self.tls["cert"], self.tls["key"])
            listeners += ("  inet_listener pop3s {\n    address = 127.0.0.1\n    port = %d\n"
                          "    ssl = yes\n  }\n" % self.pop3s_port)
        conf = """base_dir = {run}
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = {ssl}
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = {mechs}
mail_location = maildir:{d}/mail/%u
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service pop3-login {{
{listeners}}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
""".format(d=d, ssl=ssl, ssl_lines=ssl_lines, mechs=mechs, uid=self.uid, gid=self.gid,
           listeners=listeners, run=self.run_dir)
        self.conf = os.path.join(d, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self, timeout=15):
        self.proc = fixture.Proc(["dovecot", "-c", self.conf, "-F"], name="dovecot")
        fixture.wait_listen(self.pop3_port, timeout=timeout)
        if self.pop3s_port:
            fixture.wait_listen(self.pop3s_port, timeout=timeout)
        return self

    def stop(self):
        if self.proc:
            self.proc.stop(timeout=10)
            self.proc = None
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self):
        if not self.proc:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def deliver(self, user, data, name=None):
        """Put one message (bytes, CRLF or LF) into user's Maildir/new."""
        self._seq += 1
        name = name or "%d.M%dP%d.faxpost-test" % (int(time.time()), self._seq, os.getpid())
        tmp = self.maildir(user, "tmp/" + name)
        with open(tmp, "wb") as f:
            f.write(data.replace(b"\r\n", b"\n"))
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, self.maildir(user, "new/" + name))
        return name

    def count(self, user):
        return sum(len(os.listdir(self.maildir(user, s))) for s in ("new", "cur"))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""
