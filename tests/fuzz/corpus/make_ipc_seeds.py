#!/usr/bin/env python3
"""make_ipc_seeds.py: writes the seed frames of fuzz_ipc (run once; output committed).
Seed = 1 byte (descriptor count) + an IPC frame as lib/mail/ipc.h describes it."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_ipc")


def attr(kind, name, value):
    if kind == "I":
        value = struct.pack(">q", value)
    elif isinstance(value, str):
        value = value.encode()
    return kind.encode() + bytes([len(name)]) + name.encode() + struct.pack(">I", len(value)) + value


def frame(mtype, nfds, attrs):
    body = attr("I", "_nfds", nfds) + b"".join(attr(*a) for a in attrs)
    return bytes([nfds]) + struct.pack(">I", 8 + len(body)) + mtype + body


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        "deliver": frame(b"DELV", 0, [("S", "queue_id", "0A1B2C3D4E5F"), ("S", "path", "active/x"),
                                      ("I", "rcpt_count", 1), ("S", "rcpt.0", "a@example.org"),
                                      ("I", "rcpt_index.0", 0)]),
        "reply": frame(b"DLVR", 0, [("S", "status.0", "2.0.0"), ("S", "reason.0", "250 Ok"),
                                    ("S", "relay", "none")]),
        "convert_fds": frame(b"CONV", 2, [("S", "target", "(color=Binary)"), ("I", "in_count", 1),
                                          ("B", "blob", b"\x00\x01\x02")]),
        "empty": frame(b"PING", 0, []),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
