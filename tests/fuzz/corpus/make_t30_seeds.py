#!/usr/bin/env python3
"""make_t30_seeds.py: writes the seed scripts of fuzz_t30 (run once; output committed).
Format: see tests/fuzz/fuzz_t30.c (byte 0 role; records op [frames | len16 data]).
Frames were produced with t30_dcs_encode/t30_dis_encode/t30_ident_encode."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_t30")
H = bytes.fromhex
TSI = H("ff0342303031302035353520312b202020202020202020")
CSI = H("ff0340303031302035353520312b202020202020202020")
DCS = H("ff1382006670")
DIS = H("ff138000eef844")
DIS_NOECM = H("ff138000ee7800")


def frames(*fs):
    return bytes([(len(fs) - 1) << 3]) + b"".join(bytes([len(f)]) + f for f in fs)


def data(b):
    return b"\x00" + struct.pack(">H", len(b)) + b


def fcf(c):
    return frames(bytes([0xFF, 0x13, c]))


# an ECM partial page as the line brings it: FCD frames 0 and 1 (64 octets each) and
# three RCP, HDLC-framed with hdlc_encode (flags, bit stuffing, FCS)
ECM_STREAM = H("7e7e7e7e7edf07180000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000020000026ffb7d1f6010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008055e0f77d8061dab2dff7018669cb7edf0718a62dfbf9f9f9f9")
DCS_ECM = H("ff13820066f044")

PAGE = bytes([0x00, 0x80, 0xB2, 0x59, 0x01]) + bytes([0x00, 0x08, 0x80]) * 4


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        # we answered and receive: TSI+DCS, TCF, a page, EOP, DCN
        "receive_one_page": b"\x00" + frames(TSI, DCS) + data(bytes(2000)) + data(PAGE)
        + fcf(0x2E) + fcf(0xFA),
        # receive with a failed training first (FTT), then MPS and a second page
        "receive_ftt_mps": b"\x00" + frames(TSI, DCS) + data(b"\x55" * 500) + frames(TSI, DCS)
        + data(bytes(2000)) + data(PAGE) + fcf(0x4E) + data(PAGE) + fcf(0x2E) + fcf(0xFA),
        # we called and send three pages: DIS, CFR, MCF x3
        "send_three_pages": b"\x03" + frames(CSI, DIS_NOECM) + fcf(0x84) + fcf(0x8C)
        + fcf(0x8C) + fcf(0x8C),
        # send with ECM offered: DIS (ECM), CFR, MCF to each PPS
        "send_ecm": b"\x07" + frames(CSI, DIS) + fcf(0x84) + fcf(0x8C) + fcf(0x8C) + fcf(0x8C)
        + fcf(0x8C) + fcf(0x8C) + fcf(0x8C),
        # remote says RTN, then DCN
        "send_rtn_dcn": b"\x03" + frames(CSI, DIS_NOECM) + fcf(0x84) + fcf(0x4C) + fcf(0xFA),
        # we answer with ECM and receive one partial page, PPS-EOP, DCN
        "receive_ecm": b"\x24" + frames(TSI, DCS_ECM) + data(bytes(2000)) + data(ECM_STREAM)
        + frames(H("ff13be2e000001")) + fcf(0xFA),
        # silence, bad frames, wrong carrier, hang-up
        "line_trouble": b"\x01\x03\x04\x05\x07\x20" + frames(CSI) + b"\x06",
    }
    for name, b in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
