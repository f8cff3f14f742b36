#!/usr/bin/env python3
"""The QMP relay of run.sh: dom0 asks the outer QEMU for a QMP command through
the 9p share.  usage: qmp.py <qmp.sock> <folder>
dom0 writes <folder>/<name>.req (one QMP command, JSON); this sends it on the
QMP socket and writes the answer (the "return" or "error" object, events left
out) to <folder>/<name>.rsp (through a rename: dom0 never reads half a file),
then removes the .req. Runs until QEMU closes the socket."""
import json, os, socket, sys, time

sock_path, folder = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
for _ in range(600):                      # QEMU makes the socket at its start
    try:
        s.connect(sock_path)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit('qmp.py: no QMP socket at %s' % sock_path)
f = s.makefile('rw')

def answer():
    while True:
        line = f.readline()
        if not line:
            sys.exit(0)                   # QEMU exited
        msg = json.loads(line)
        if 'return' in msg or 'error' in msg:
            return msg

f.readline()                              # the greeting
f.write('{"execute": "qmp_capabilities"}\n'); f.flush(); answer()
while True:
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.req'):
            continue
        req = os.path.join(folder, name)
        with open(req) as r:
            cmd = r.read().strip()
        try:
            json.loads(cmd)
            f.write(cmd + '\n'); f.flush()
            rsp = json.dumps(answer())
        except ValueError as e:
            rsp = json.dumps({'error': {'class': 'RelayError', 'desc': str(e)}})
        out = req[:-4] + '.rsp'
        with open(out + '.tmp', 'w') as w:
            w.write(rsp + '\n')
        os.rename(out + '.tmp', out)
        os.remove(req)
    time.sleep(0.1)
