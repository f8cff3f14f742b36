#!/usr/bin/env python3
"""Run one shell command on the console of a dom0 booted by boot.sh (MODE=shell)
and print its output.   usage: console.py 'xl list' [timeout_s]
Talks to the unix socket $E2E_RUN/console.sock (default ~/.cache/xlpvusb-e2e/run)."""
import os, re, socket, sys, time, uuid

run = os.environ.get('E2E_RUN') or os.path.join(
    os.environ.get('E2E_CACHE') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'xlpvusb-e2e'), 'run')
cmd = sys.argv[1]
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60
tag = '__E2E_DONE_%s__' % uuid.uuid4().hex[:8]
s = socket.socket(socket.AF_UNIX)
s.connect(os.path.join(run, 'console.sock'))
s.settimeout(0.5)
s.sendall(('%s; echo %s rc=$?\n' % (cmd, tag)).encode())
buf, end = b'', time.time() + timeout
# the echoed command line holds the tag too, but followed by 'rc=$?', not a number
done = re.compile(re.escape(tag.encode()) + rb' rc=(\d+)')
while time.time() < end and not done.search(buf):
    try:
        buf += s.recv(65536)
    except socket.timeout:
        pass
sys.stdout.write(buf.decode(errors='replace'))
m = done.search(buf)
sys.exit(int(m.group(1)) if m else 124)
