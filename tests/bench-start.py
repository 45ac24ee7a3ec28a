#!/usr/bin/env python3
"""Cold start: exec replyrouted ARGS... with a notify socket of our own and
time from the exec to READY=1, then stop it with SIGTERM and time that too.
Prints the two figures, the daemon's CPU time and RSS when ready, and, with
BENCH_AT_READY set, the output of that shell command run at READY=1 (e.g. a
count of the routes installed: READY=1 is sent once everything is)."""
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
status = {l.split(":")[0]: l.split()[1] for l in open(f"/proc/{p.pid}/status") if len(l.split()) > 1}
stat = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
cpu_ms = (int(stat[11]) + int(stat[12])) * 1000 / os.sysconf("SC_CLK_TCK")
rss = status["VmRSS"]
at_ready = ""
if os.environ.get("BENCH_AT_READY"):
    at_ready = subprocess.run(os.environ["BENCH_AT_READY"], shell=True, capture_output=True,
                              text=True).stdout.strip()
t2 = time.monotonic()
p.send_signal(signal.SIGTERM)
p.wait()
t3 = time.monotonic()
os.unlink(path)
os.rmdir(d)
print(f"cold start to READY=1: {(t1 - t0) * 1000:.1f} ms ({cpu_ms:.0f} ms CPU, RSS {rss} kB, "
      f"RssAnon {status.get('RssAnon', '?')} kB{', ' + at_ready if at_ready else ''}); "
      f"SIGTERM to exit (removing everything): {(t3 - t2) * 1000:.1f} ms")
