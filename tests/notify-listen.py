#!/usr/bin/env python3
"""Stand-in for the service manager's notify socket: print every sd_notify
datagram as one line, its assignments joined by ' | ', flushed at once."""
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
while True:
    data = sock.recv(65536)
    print(" | ".join(data.decode(errors="replace").strip().split("\n")), flush=True)
