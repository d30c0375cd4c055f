#!/usr/bin/python3
"""Writes the seed corpus of the libFuzzer targets (tests/fuzz/corpus/<target>/): frames of every
encapsulation the parser decodes, pcap and pcapng files with every block type, and engine packet sequences
(handshake and close, refusal, timeouts, a stray timestamp, a full table). Needs scapy (Debian's
python3-scapy, hence /usr/bin/python3). Crash reproducers found later are added beside these by hand."""
import os, struct
from scapy.all import Ether, IP, IPv6, TCP, UDP, Dot1Q, GRE, VXLAN, raw, IPv6ExtHdrHopByHop, IPv6ExtHdrFragment
from scapy.all import PPPoE, PPP
from scapy.contrib.mpls import MPLS

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def w(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    open(os.path.join(here, target, name), "wb").write(data)


syn = TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460), ("WScale", 7)])
frames = {
    "eth-ipv4-syn": Ether() / IP(src="10.0.0.1", dst="93.184.216.34") / syn,
    "eth-ipv6-ext": Ether() / IPv6(src="fd00::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() /
                    TCP(sport=1, dport=443, flags="SA") / b"abc",
    "vlan-qinq": Ether(type=0x88a8) / Dot1Q(vlan=5) / Dot1Q(vlan=6) / IP(src="10.0.0.1", dst="10.0.0.2") /
                 TCP(flags="A") / (b"x" * 7),
    "mpls-pw": Ether(type=0x8847) / MPLS(label=16, s=1) / (b"\x00\x00\x00\x00" + raw(Ether() / IP() / TCP(flags="R"))),
    "gre-ip": Ether() / IP() / GRE() / IP(src="1.1.1.1", dst="2.2.2.2") / TCP(flags="F"),
    "vxlan": Ether() / IP() / UDP(sport=1234, dport=4789) / VXLAN(vni=1) / Ether() / IP() / TCP(flags="S"),
    "ipv6-fragment": Ether() / IPv6() / IPv6ExtHdrFragment(m=1) / TCP(flags="S"),
    "pppoe": Ether() / PPPoE(sessionid=1) / PPP(proto=0x21) / IP() / TCP(flags="PA") / b"hello",
}
for name, f in frames.items():
    w("frame", name, bytes([0x00]) + raw(f))  # control byte: Ethernet, checksums verified
    w("frame", name + "-nocsum", bytes([0x10]) + raw(f))
w("frame", "raw-ipv4", bytes([0x01]) + raw(IP() / TCP(flags="S")))
w("frame", "sll2", bytes([0x05]) + struct.pack(">H", 0x0800) + b"\0" * 18 + raw(IP() / TCP(flags="S")))
# The link types and encapsulations decoded after Zeek's analyzers (control byte = index in kLinks).
ip_syn = raw(IP(src="10.0.0.1", dst="93.184.216.34") / syn)
snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
wlan = bytes([0x88, 0x01, 0, 0]) + b"\xbb" * 18 + b"\x10\x00" + b"\x00\x00" + snap + ip_syn
w("frame", "vntag", b"\x00" + raw(Ether(type=0x8926) / (b"\x00\x01\x00\x02\x81\x00" + raw(Dot1Q(vlan=5) / IP() / syn))))
w("frame", "dot3-snap", b"\x00" + raw(Ether(type=len(snap) + len(ip_syn))) + snap + ip_syn)
w("frame", "ppp", bytes([10]) + b"\xff\x03\x00\x21" + ip_syn)
w("frame", "ppp-serial-mpls", bytes([11]) + b"\xff\x03\x02\x81" + raw(MPLS(label=16, s=1)) + ip_syn)
w("frame", "nflog", bytes([12, 2, 0, 0, 1]) + struct.pack("<HH", 8, 1) + b"\x08\x00\x01\x00" +
  struct.pack("<HH", 4 + len(ip_syn), 9) + ip_syn)
w("frame", "wlan-qos", bytes([13]) + wlan)
w("frame", "radiotap-wlan", bytes([14]) + b"\x00\x00\x08\x00\x00\x00\x00\x00" + wlan)
w("frame", "erspan3", b"\x00" + raw(Ether() / IP(proto=47) / (
  b"\x10\x00\x22\xeb\x00\x00\x00\x01" + b"\x20\x00\x00\x05" + b"\x00" * 7 + b"\x01" + b"\x00" * 8 +
  raw(Ether() / IP() / syn))))
w("frame", "pptp", b"\x00" + raw(Ether() / IP(proto=47) / (
  b"\x30\x81\x88\x0b\x00\x2c\x00\x01" + b"\x00" * 3 + b"\x03" + b"\x00" * 3 + b"\x02\xff\x03\x00\x21" + ip_syn)))
w("frame", "ayiya", b"\x00" + raw(Ether() / IP() / UDP(sport=5072, dport=5072) /
  (bytes([0x42, 0x52, 0x11, 41, 0, 0, 0, 0]) + b"\x20" * 36 + raw(IPv6() / syn))))

pkts = [Ether() / IP(src="10.0.0.1", dst="93.184.216.34") / TCP(sport=40000, dport=80, flags=f, seq=1000, ack=1)
        for f in ("S", "SA", "A", "FA", "FA", "A")]


def pcap(nanos=False, e="<"):
    out = struct.pack(e + "IHHiIII", 0xa1b23c4d if nanos else 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pkts):
        d = raw(p)
        out += struct.pack(e + "IIII", 1700000000 + i, 1000 * i, len(d), len(d)) + d
    return out


def block(t, body, e):
    body += b"\0" * ((4 - len(body) % 4) % 4)
    return struct.pack(e + "II", t, len(body) + 12) + body + struct.pack(e + "I", len(body) + 12)


def opt(code, val, e):
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * ((4 - len(val) % 4) % 4)


def pcapng(e):
    out = block(0x0a0d0d0a if e == "<" else 0x0a0d0d0a, struct.pack(e + "IHHq", 0x1a2b3c4d, 1, 0, -1), e)
    out += block(1, struct.pack(e + "HHI", 1, 0, 65535) + opt(9, bytes([9]), e) +
                 opt(14, struct.pack(e + "q", -3600), e) + opt(0, b"", e), e)
    out += block(1, struct.pack(e + "HHI", 101, 0, 65535) + opt(9, bytes([0x80 | 20]), e) + opt(0, b"", e), e)
    for i, p in enumerate(pkts):
        d = raw(p)
        ts = 1700000000_000000000 + i
        out += block(6, struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xffffffff, len(d), len(d)) + d, e)
    d = raw(IP() / TCP(flags="S"))
    out += block(6, struct.pack(e + "IIIII", 1, 0, 5 << 20, len(d), len(d)) + d, e)
    out += block(3, struct.pack(e + "I", len(raw(pkts[0]))) + raw(pkts[0]), e)
    d = raw(pkts[1])
    out += block(2, struct.pack(e + "HHIIII", 0, 0, 0, 1, len(d), len(d)) + d, e)
    out += block(5, struct.pack(e + "IIII", 0, 0, 1, 0), e)  # interface statistics: skipped
    out += block(4, b"\0\0\0\0", e)  # name resolution: skipped
    return out


w("capture", "pcap-micro", pcap())
w("capture", "pcap-nano-big-endian", pcap(nanos=True, e=">"))
w("capture", "pcapng-all-blocks", pcapng("<"))
w("capture", "pcapng-big-endian", pcapng(">"))
w("capture", "pcapng-two-sections", pcapng("<") + pcapng(">"))


def rec(dt, who, flags, port, seq, ack):
    return bytes([dt, who, flags, port]) + struct.pack("<HH", seq, ack)


S, A, F, R = 0x02, 0x10, 0x01, 0x04
hs = rec(1, 0x00, S, 0, 1, 0) + rec(1, 0x10, S | A, 0, 50, 1) + rec(1, 0x00, A, 0, 2, 51)
close = rec(2, 0x00, F | A, 0x80, 2, 51) + rec(2, 0x10, F | A, 0, 51, 3) + rec(1, 0x00, A, 0x80, 3, 52)
cfg = bytes([0x3f, 0x07])
w("engine", "handshake-close", cfg + hs + close)
w("engine", "refused", cfg + rec(1, 0x01, S, 0, 7, 0) + rec(1, 0x11, R | A, 0x80, 0, 8))
w("engine", "unanswered-timeout", cfg + rec(1, 0x02, S, 0, 9, 0) + rec(100, 0x02, S, 0x80, 9, 0) + rec(200, 0x03, S, 0, 1, 0))
w("engine", "stray-time", cfg + hs + rec(0xff, 0x04, S, 0, 1, 0) + rec(0xfe, 0x00, A, 0, 2, 51) + close)
w("engine", "full-table", bytes([0x02, 0x00]) + b"".join(rec(1, i & 7, S, i & 3, i, 0) for i in range(16)) +
  rec(0xfd, 30, 0, 0, 0, 0))
print({t: len(os.listdir(os.path.join(here, t))) for t in ("frame", "capture", "engine")})
