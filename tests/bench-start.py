#!/usr/bin/env python3
"""Cold start: exec replyrouted ARGS... with a notify socket of our own and
time from the exec to READY=1, then stop it with SIGTERM and time that too.
Prints the two figures and the daemon's RSS when ready."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

d = tempfile.mkdtemp()
path = os.path.join(d, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
env = dict(os.environ, NOTIFY_SOCKET=path)
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], env=env, stderr=subprocess.DEVNULL)
s.settimeout(60)
while b"READY=1" not in s.recv(65536):
    pass
t1 = time.monotonic()
rss = next(l.split()[1] for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS"))
t2 = time.monotonic()
p.send_signal(signal.SIGTERM)
p.wait()
t3 = time.monotonic()
os.unlink(path)
os.rmdir(d)
print(f"cold start to READY=1: {(t1 - t0) * 1000:.1f} ms (RSS then {rss} kB); "
      f"SIGTERM to exit (removing everything): {(t3 - t2) * 1000:.1f} ms")
