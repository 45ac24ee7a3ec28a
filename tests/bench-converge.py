#!/usr/bin/env python3
"""Address change -> replyrouted's table converged, measured from rtnetlink.

Run inside the host namespace with the daemon running for eth1 / table 100.
Each round adds (or removes) 198.18.0.2/24 on eth1 with a raw RTM_NEWADDR /
RTM_DELADDR sent from here, and times from just before that send to the
arrival of replyrouted's RTM_NEWROUTE / RTM_DELROUTE of 198.18.0.0/24 in table
100 on a listener subscribed beforehand. Prints percentiles."""
import socket
import struct
import subprocess
import sys
import time

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
PROTO = 205
RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x10, 0x40
NEWADDR, DELADDR, NEWROUTE, DELROUTE = 20, 21, 24, 25
PREFIX = socket.inet_aton("198.18.0.0")
LOCAL = socket.inet_aton("198.18.0.2")

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE))


def attrs(buf, off, end):
    while off + 4 <= end:
        alen, atype = struct.unpack_from("HH", buf, off)
        if alen < 4:
            break
        yield atype & 0x3FFF, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def wait_for(kind):
    """Return the monotonic time of the event kind: ('addr', type) or ('route', type)."""
    while True:
        data = s.recv(65536)
        now = time.monotonic_ns()
        off = 0
        while off + 16 <= len(data):
            mlen, mtype = struct.unpack_from("IH", data, off)
            body = off + 16
            if kind[0] == "addr" and mtype == kind[1]:
                for t, v in attrs(data, body + 8, off + mlen):
                    if t == 2 and v == LOCAL:
                        return now
            if kind[0] == "route" and mtype == kind[1]:
                fam, dlen, _, _, table, proto = struct.unpack_from("BBBBBB", data, body)
                dst = b""
                for t, v in attrs(data, body + 12, off + mlen):
                    if t == 1:
                        dst = v
                    elif t == 15:
                        table = struct.unpack("I", v)[0]
                if proto == PROTO and table == 100 and dlen == 24 and dst == PREFIX:
                    return now
            off += (mlen + 3) & ~3


cmd = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
cmd.bind((0, 0))
IFINDEX = socket.if_nametoindex("eth1")


def addr_msg(mtype, seq):
    attr = lambda t, v: struct.pack("HH", 4 + len(v), t) + v
    body = struct.pack("BBBBI", socket.AF_INET, 24, 0, 0, IFINDEX) + attr(2, LOCAL) + attr(1, LOCAL)
    flags = 0x1 | 0x4 | (0x400 | 0x200 if mtype == NEWADDR else 0)  # REQUEST|ACK(|CREATE|EXCL)
    return struct.pack("IHHII", 16 + len(body), mtype, flags, seq, 0) + body


samples = []
for i in range(ROUNDS):
    add = i % 2 == 0
    t0 = time.monotonic_ns()
    cmd.send(addr_msg(NEWADDR if add else DELADDR, i + 1))
    t1 = wait_for(("route", NEWROUTE if add else DELROUTE))
    ack = cmd.recv(4096)
    if struct.unpack_from("i", ack, 16)[0] != 0:
        sys.exit(f"address change {i} failed: {struct.unpack_from('i', ack, 16)[0]}")
    samples.append((t1 - t0) / 1000.0)
if ROUNDS % 2:
    subprocess.run(["ip", "addr", "del", "198.18.0.2/24", "dev", "eth1"], check=True)
samples.sort()
pct = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
print(f"address change -> converged, {ROUNDS} rounds: median {pct(0.5):.0f} us, "
      f"p90 {pct(0.9):.0f} us, p99 {pct(0.99):.0f} us, min {samples[0]:.0f} us, "
      f"max {samples[-1]:.0f} us")
