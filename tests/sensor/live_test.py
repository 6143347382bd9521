#!/usr/bin/env python3
"""Live sensor test: capture on a veth inside a network namespace, ban through nftables.

Two namespaces made here: "att" (the attacker, 10.231.<n>.1 and the control 10.231.<n>.3) and
"pbx" (10.231.<n>.2: a UDP receiver standing in for the PBX, and `pbxguard sensor -i veth`).

  1. control: the scanner's OPTIONS reaches the PBX's socket (nothing protects it yet);
  2. the sensor sees that OPTIONS and bans the scanner: its JSON ban line is the readiness
     signal, and `nft list set inet pbxguard ban4` in the pbx namespace must hold the address;
  3. the kernel then drops the scanner: a probe from it never reaches the receiver, while a
     probe from the control address sent right after it does (UDP on one veth keeps order, so
     the control's arrival proves the scanner's probe would have arrived before it).

Needs root (CI runs as root); missing privileges or tools fail loudly, never skip.
Every wait is bounded; namespaces and processes are removed on every exit path.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/src/app/pbxguard"
TAG = os.getpid() % 200 + 20
NS_A = "pbxsa%d" % os.getpid()
NS_P = "pbxsp%d" % os.getpid()
IF_A = "sa%d" % os.getpid()
IF_P = "sp%d" % os.getpid()
ATT = "10.231.%d.1" % TAG
PBX = "10.231.%d.2" % TAG
CTL = "10.231.%d.3" % TAG

RECEIVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5060))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65535)
    print("%s %s" % (peer[0], data.split(b"\r\n", 1)[0].decode("latin-1")), flush=True)
"""

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5070))
s.sendto(sys.argv[3].encode().replace(b"\\n", b"\r\n"), (sys.argv[2], 5060))
"""


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    raise SystemExit(1)


def run(*args, check=True):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=20)
    if check and r.returncode != 0:
        fail("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def options(user, ua, callid):
    return ("OPTIONS sip:%s@%s SIP/2.0\\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK%s\\n"
            "Max-Forwards: 70\\nFrom: <sip:%s@%s>;tag=t%s\\nTo: <sip:%s@%s>\\n"
            "Call-ID: %s\\nCSeq: 1 OPTIONS\\nUser-Agent: %s\\nContent-Length: 0\\n\\n"
            % (user, PBX, ATT, callid, user, PBX, callid, user, PBX, callid, ua))


def send(src, payload):
    run("ip", "netns", "exec", NS_A, sys.executable, "-c", SENDER, src, PBX, payload)


def read_line(proc_stream, deadline):
    """One line from a pipe, or None at the deadline."""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc_stream], [], [], max(0.0, deadline - time.monotonic()))
        if r:
            line = proc_stream.readline()
            if not line:
                return None
            return line.rstrip("\n")
    return None


def wait_for(stream, pred, seconds, what):
    deadline = time.monotonic() + seconds
    seen = []
    while True:
        line = read_line(stream, deadline)
        if line is None:
            fail("timed out after %ss waiting for %s; saw: %r" % (seconds, what, seen[-10:]))
        seen.append(line)
        if pred(line):
            return line, seen


def main():
    if os.geteuid() != 0:
        fail("needs root (network namespaces, nftables); CI runs the suite as root")
    for tool in ("ip", "nft"):
        if not shutil.which(tool):
            fail("%s not installed (scripts/packages-test.txt lists it)" % tool)
    if not os.access(BIN, os.X_OK):
        fail("no pbxguard binary at %s" % BIN)
    tmp = tempfile.mkdtemp(prefix="pbx-sensor-live-")
    procs = []
    try:
        run("ip", "netns", "add", NS_A)
        run("ip", "netns", "add", NS_P)
        run("ip", "link", "add", IF_A, "netns", NS_A, "type", "veth", "peer", "name", IF_P,
            "netns", NS_P)
        run("ip", "-n", NS_A, "addr", "add", ATT + "/24", "dev", IF_A)
        run("ip", "-n", NS_A, "addr", "add", CTL + "/24", "dev", IF_A)
        run("ip", "-n", NS_P, "addr", "add", PBX + "/24", "dev", IF_P)
        for ns, dev in ((NS_A, IF_A), (NS_P, IF_P)):
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", dev, "up")
        cfg = os.path.join(tmp, "sensor.yaml")
        with open(cfg, "w") as f:
            f.write("log:\n  level: info\nevents:\n  destination: \"off\"\n"
                    "sensor:\n  pbx: [\"%s:5060\"]\n  stats_interval: 0\n" % PBX)

        recv = subprocess.Popen(["ip", "netns", "exec", NS_P, sys.executable, "-c", RECEIVER,
                                 PBX], stdout=subprocess.PIPE, text=True)
        procs.append(recv)
        wait_for(recv.stdout, lambda l: l == "ready", 10, "the PBX receiver")

        sensor = subprocess.Popen(["ip", "netns", "exec", NS_P, BIN, "sensor", "-c", cfg, "-i",
                                   IF_P, "--data-dir", tmp, "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(sensor)
        wait_for(sensor.stderr, lambda l: "capturing on" in l, 15, "the sensor's capture")

        # 1. Control: the attack reaches the unprotected PBX.
        send(ATT, options("100", "friendly-scanner", "live-scan-1"))
        wait_for(recv.stdout, lambda l: l.startswith(ATT + " OPTIONS"), 10,
                 "the scanner's OPTIONS at the PBX (control)")

        # 2. The sensor bans it, and the ban is in the kernel set.
        line, _ = wait_for(sensor.stdout, lambda l: '"type":"ban"' in l, 10, "the ban line")
        ban = json.loads(line)
        if ban.get("scope") != ATT or ban.get("rule") != "det.scanner":
            fail("unexpected ban %r" % ban)
        out = run("ip", "netns", "exec", NS_P, "nft", "list", "set", "inet", "pbxguard",
                  "ban4").stdout
        if ATT not in out:
            fail("ban not in nftables set ban4:\n" + out)

        # 3. The kernel drops the scanner; the control address still gets through.
        send(ATT, options("101", "probe", "after-ban"))
        send(CTL, options("102", "probe", "control"))
        _, seen = wait_for(recv.stdout, lambda l: l.startswith(CTL + " "), 10,
                           "the control probe at the PBX")
        if any(l.startswith(ATT + " ") for l in seen):
            fail("the banned scanner still reached the PBX: %r" % seen)

        sensor.send_signal(signal.SIGTERM)
        rc = sensor.wait(timeout=15)
        if rc != 0:
            fail("sensor exited with %d: %s" % (rc, sensor.stderr.read()))
        print("sensor_live: ok (ban of %s by det.scanner enforced in nftables)" % ATT)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        run("ip", "netns", "del", NS_A, check=False)
        run("ip", "netns", "del", NS_P, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
