#!/usr/bin/env python3
"""make_queue_seeds.py: writes the seed queue files of fuzz_queue_read (run once; the
output is committed). Layout: lib/mail/queue_rec.h (type byte, 4-byte BE length, data)."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_queue_read")


def rec(t, data):
    return t.encode() + struct.pack(">I", len(data)) + data


def qfile(sender, rcpts, content, extra=b""):
    b = rec("V", b"FXQ1") + rec("T", struct.pack(">q", 1700000000123456))
    b += rec("S", sender) + extra
    for status, notify, addr, orcpt in rcpts:
        b += rec("R", status + bytes([notify]) + addr + b"\0" + orcpt)
    return b + rec("M", content) + rec("E", b"")


def main():
    os.makedirs(HERE, exist_ok=True)
    msg = b"Subject: hi\r\nFrom: a@example.com\r\n\r\nbody\r\n"
    seeds = {
        "minimal": qfile(b"a@example.com", [(b"P", 0, b"b@example.org", b"")], msg),
        "null_sender_done": qfile(b"", [(b"D", 4, b"b@example.org", b"rfc822;b@example.org"),
                                        (b"P", 6, b"c@example.org", b"")], b""),
        "smtp_full": qfile(b"s@example.com", [(b"P", 2, b"FAX=+493012345@fax.example", b"")], msg,
                           rec("O", b"smtp") + rec("c", b"mail.example.com") +
                           rec("a", b"192.0.2.7") + rec("h", b"mail.example.com") +
                           rec("p", b"ESMTPSA") + rec("u", b"alice") + rec("i", b"ENV1") +
                           rec("F", b"\x02\x01") + rec("X", b"conneg\0(color=Binary)") +
                           rec("X", b"conperm\0yes")),
        # larger than the reader's first read (8 KiB): envelope and end record beyond it
        "big_envelope": qfile(b"a@example.com", [(b"P", 0, b"r%03d@example.org" % i, b"")
                                                 for i in range(600)], msg),
        "big_content": qfile(b"a@example.com", [(b"P", 0, b"b@example.org", b"")],
                             msg + (b"y" * 78 + b"\r\n") * 150),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
