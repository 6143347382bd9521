"""Shared mechanics of the probe integration tests: bounded readiness checks, child process
bookkeeping, the Kamailio stand-in configuration and running `pbxguard probe`.

Every wait is bounded; readiness is checked (an OPTIONS answered, a UDP socket bound), never
slept for. Only the addresses the caller passes are used (loopback in these tests).
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Filled by check() and start(); the scripts read them (the same list objects).
failures = []
procs = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def start(cmd, log):
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def options_answered(addr, port=5060, tries=50):
    """Polls with OPTIONS until any SIP response arrives (at most tries x 200 ms)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    lp = s.getsockname()[1]
    try:
        for i in range(tries):
            msg = (f"OPTIONS sip:{addr}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-ready-{i};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:ready@{addr}>;tag={i}\r\n"
                   f"To: <sip:{addr}>\r\nCall-ID: ready-{i}-{lp}\r\nCSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), (addr, port))
            try:
                if s.recv(65535).startswith(b"SIP/2.0 "):
                    return True
            except socket.timeout:
                pass
        return False
    finally:
        s.close()


def udp_bound(addr, port, tries=50):
    """True once a UDP socket is bound to addr:port (polls /proc/net/udp, bounded)."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(addr), "little"), port)
    for _ in range(tries):
        with open("/proc/net/udp") as f:
            if any(line.split()[1] == want for line in f.readlines()[1:]):
                return True
        time.sleep(0.1)  # polling interval of a bounded readiness check
    return False


def find_tools():
    """(kamailio, sipp, kamailio module dir), or None when any is missing (test skips)."""
    kamailio = shutil.which("kamailio") or "/usr/sbin/kamailio"
    sipp = shutil.which("sipp")
    mods = sorted(glob.glob("/usr/lib/*/kamailio/modules"))
    if not os.path.exists(kamailio) or not sipp or not mods:
        print("SKIP: kamailio, its modules or sipp missing")
        return None
    return kamailio, sipp, mods[0]


def write_kamailio_cfg(name, out, mpath, db, outside, tlsdir, outside_answer):
    """Writes tests/probe/kamailio/<name>.cfg to out with its @PLACEHOLDERS@ filled."""
    with open(os.path.join(HERE, "kamailio", name + ".cfg")) as f:
        cfg = f.read()
    cfg = (cfg.replace("@MPATH@", mpath + "/").replace("@DBDIR@", db)
           .replace("@OUTSIDE@", outside).replace("@TLSDIR@", tlsdir)
           .replace("@OUTSIDE_ANSWER@", outside_answer))
    with open(out, "w") as f:
        f.write(cfg)


def run_probe(pbx, target, extensions, *extra):
    """Runs `pbxguard probe` with JSON output: (exit code, parsed report or None, stderr)."""
    cmd = [pbx, "probe", target, "--extensions", extensions, "--format", "json", "--quiet"]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    try:
        report = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    return r.returncode, report, r.stderr


def dump_logs(tmp, names, lines):
    """On failure: the last lines of each log file in tmp, to stderr."""
    for name in names:
        path = os.path.join(tmp, name)
        if os.path.exists(path):
            with open(path) as f:
                tail = f.readlines()[-lines:]
            sys.stderr.write(f"--- {name}\n" + "".join(tail))
