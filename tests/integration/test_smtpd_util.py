"""test_smtpd_util.py: helpers for the smtpd integration tests (stdlib only; no tests here).

Raw(port): a line-level SMTP client that sends exactly the bytes it is given
(smuggling, pipelining, injection tests need that), reads whole replies, and can
switch to TLS on the same socket. read_queue_file(path): parse a faxpost queue file
(lib/mail/queue_rec.h layout) and check it is complete (end record last).
"""
import socket
import ssl
import struct
import subprocess


class Raw:
    def __init__(self, port, host="127.0.0.1", timeout=10, tls_context=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; unread: %r" % self.buf)
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        """(code, [text lines]) of one whole reply."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def starttls(self, context):
        """After a 220 to STARTTLS: handshake on the same socket. Bytes already
        buffered in plaintext would be a server bug, so they fail the caller."""
        assert self.buf == b"", "plaintext buffered before TLS: %r" % self.buf
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def at_eof(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read_queue_file(path):
    """Records of a queue file as a dict; raises ValueError when partial/corrupt."""
    with open(path, "rb") as f:
        data = f.read()
    pos, recs = 0, []
    while pos < len(data):
        if pos + 5 > len(data):
            raise ValueError("%s: truncated record header at %d" % (path, pos))
        typ = data[pos:pos + 1]
        (n,) = struct.unpack(">I", data[pos + 1:pos + 5])
        if pos + 5 + n > len(data):
            raise ValueError("%s: record %r overruns the file" % (path, typ))
        recs.append((typ, data[pos + 5:pos + 5 + n]))
        pos += 5 + n
    if not recs or recs[-1][0] != b"E" or recs[0] != (b"V", b"FXQ1"):
        raise ValueError("%s: no version or no end record (partial file)" % path)
    out = {"rcpt": [], "attr": {}, "content": None, "sender": None}
    for typ, val in recs:
        if typ == b"S":
            out["sender"] = val.decode("latin-1")
        elif typ == b"R":
            out["rcpt"].append(val[2:].split(b"\0")[0].decode("latin-1"))
        elif typ == b"X":
            k, _, v = val.partition(b"\0")
            out["attr"][k.decode()] = v.decode("latin-1")
        elif typ == b"M":
            out["content"] = val
        elif typ in (b"c", b"a", b"h", b"p", b"u", b"O", b"i"):
            out[typ.decode()] = val.decode("latin-1")
    return out


def crypt_hash(password):
    r = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True,
                       text=True, check=True, timeout=30)
    return r.stdout.strip()


def client_context(ca_cert):
    ctx = ssl.create_default_context(cafile=ca_cert)
    ctx.check_hostname = True
    return ctx
