#!/usr/bin/env python3
"""Integration test: pbxguard probe against pbxguard gateway in front of the insecure PBX.

Control: the bare insecure Kamailio stand-in (tests/probe/kamailio/insecure.cfg) is graded F
with user enumeration naming its subscribers 1001 and 1002 in REGISTER, INVITE and OPTIONS,
its version leaked in Server, and unauthenticated INVITEs routed to an outside number.

Through the gateway, the same probe must find:
  - no enumeration of the subscribers: missing users are answered like real ones
    (enumeration shielding: 404 -> challenge, OPTIONS 404 -> 200, and the 480 the PBX gives
    unregistered real users when it routes before authenticating -> challenge);
  - no version leak (fingerprint hiding strips Server / User-Agent).
  - no routing of an unauthenticated INVITE to an outside number: the fraud policy decides
    INVITEs without credentials (fraud.unauthenticated.check) and refuses them with the
    same challenge a PBX that authenticates would send, before its open dial plan sees them
    (a 403 would tell which numbers the PBX challenges, i.e. which exist).
The stand-in runs with NO_OPEN_REG: its flaws are the two the gateway must neutralise
(enumeration by response code, an open dial plan). An open registration (a device that
registers without credentials) is the PBX's to fix and is covered by the probe's own tests.

Only loopback addresses are used (127.66.3.0/24); every wait is bounded; readiness is
checked (OPTIONS answered, UAS socket bound), never slept for.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PBX = sys.argv[1] if len(sys.argv) > 1 else "build/src/app/pbxguard"
INSECURE = "127.66.3.1"
OUTSIDE = "127.66.3.2"
GATEWAY = "127.66.3.4"
UAS_PORT = 5080
EXTENSIONS = "1000-1003"

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


def probe(target):
    cmd = [PBX, "probe", target, "--extensions", EXTENSIONS, "--format", "json", "--quiet",
           "--no-flood", "--rate", "20"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    try:
        report = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    return r.returncode, report, r.stderr


def findings(report, fid):
    return [f["evidence"] for f in report["findings"] if f["id"] == fid] if report else []


def names_subscriber(evidence):
    return "1001=" in evidence or "1002=" in evidence


def main():
    kamailio = shutil.which("kamailio") or "/usr/sbin/kamailio"
    sipp = shutil.which("sipp")
    mods = sorted(glob.glob("/usr/lib/*/kamailio/modules"))
    if not os.path.exists(kamailio) or not sipp or not mods:
        print("SKIP: kamailio, its modules or sipp missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="pbxguard-probe-gw-")
    try:
        db = os.path.join(tmp, "db")
        os.makedirs(db)
        for f in ("version", "subscriber"):
            shutil.copy(os.path.join(HERE, "kamailio/db", f), db)
        with open(os.path.join(HERE, "kamailio/insecure.cfg")) as f:
            cfg = f.read()
        cfg = (cfg.replace("@MPATH@", mods[0] + "/").replace("@DBDIR@", db)
               .replace("@OUTSIDE@", f"{OUTSIDE}:{UAS_PORT}").replace("@TLSDIR@", tmp)
               .replace("@OUTSIDE_ANSWER@", f"{OUTSIDE}:{UAS_PORT}"))
        with open(os.path.join(tmp, "insecure.cfg"), "w") as f:
            f.write(cfg)
        os.makedirs(os.path.join(tmp, "run"))
        data = os.path.join(tmp, "gw-data")
        with open(os.path.join(tmp, "gw.yaml"), "w") as f:
            # The probe is itself a scan: with the default actions its address is banned part
            # way through (enumeration, sweep), and the answers that stop coming look to it like
            # timing differences. Alerts instead of bans measure what the answers reveal, which
            # is what shielding must hide from a scan that stays under every threshold.
            f.write(f"general:\n  data_dir: {data}\n"
                    "ban:\n  nftables:\n    enabled: false\n"
                    "detect:\n  enumeration:\n    action: alert\n"
                    "  scanner:\n    action: alert\n"
                    "fraud:\n  dialplan:\n    preset: US\n"
                    "  unauthenticated:\n    check: true\n"
                    "log:\n  level: info\n  destination: stderr\n"
                    f"events:\n  destination: {tmp}/events.jsonl\n")

        start([sipp, "-sf", os.path.join(HERE, "outside-uas.xml"), "-i", OUTSIDE, "-p",
               str(UAS_PORT), "-nostdin", "-m", "1000"], open(os.path.join(tmp, "uas.log"), "w"))
        start([kamailio, "-f", os.path.join(tmp, "insecure.cfg"), "-DD", "-E",
               "-A", "NO_OPEN_REG", "-Y", os.path.join(tmp, "run"), "-l", f"udp:{INSECURE}:5060",
               "-l", f"tcp:{INSECURE}:5060"], open(os.path.join(tmp, "insecure.log"), "w"))
        check(udp_bound(OUTSIDE, UAS_PORT), "outside UAS listening")
        check(options_answered(INSECURE), "insecure Kamailio answers")
        if failures:
            return 1

        # Control: the bare PBX.
        rc, rep, err = probe(INSECURE)
        got = [f["id"] for f in rep["findings"]] if rep else []
        print("bare:", got, err, file=sys.stderr)
        check(rep is not None and rep["grade"] == "F", "control: bare PBX graded F")
        enum = findings(rep, "PRB-ENUM-001")
        check(len(enum) == 3 and all(names_subscriber(e) for e in enum),
              "control: enumeration names the subscribers for REGISTER, INVITE and OPTIONS")
        check(findings(rep, "PRB-VER-001"), "control: version leaked by the bare PBX")
        check(findings(rep, "PRB-ROUTE-001"), "control: unauthenticated INVITE routed outside")

        start([PBX, "gateway", "-c", os.path.join(tmp, "gw.yaml"), "--foreground",
               "--data-dir", data, "--listen", f"udp:{GATEWAY}:5060",
               "--listen", f"tcp:{GATEWAY}:5060", "--upstream", f"udp:{INSECURE}:5060"],
              open(os.path.join(tmp, "gateway.log"), "w"))
        check(options_answered(GATEWAY), "gateway answers (relays OPTIONS)")
        if failures:
            return 1
        rc, rep, err = probe(GATEWAY)
        got = [f["id"] for f in rep["findings"]] if rep else []
        print("through the gateway:", got, err, file=sys.stderr)
        check(rep is not None, "probe report through the gateway")
        leaks = [e for e in findings(rep, "PRB-ENUM-001") + findings(rep, "PRB-ENUM-002")
                 if names_subscriber(e)]
        check(not leaks, "no subscriber enumerable through the gateway: %s" % leaks)
        check(not findings(rep, "PRB-VER-001"), "no version leak through the gateway")
        check(not findings(rep, "PRB-ROUTE-001"),
              "no unauthenticated INVITE routed outside through the gateway")
        serious = [f["id"] for f in rep["findings"]
                   if f["severity"] not in ("info", "low")] if rep else ["no report"]
        check(not serious, "clean through the gateway (nothing above low): %s" % serious)
        check(rep is not None and rep["grade"] in ("A", "B"),
              "graded A or B through the gateway: %s" % (rep["grade"] if rep else None))
        gw = procs[-1]
        check(gw.poll() is None, "gateway still running at the end")
        gw.send_signal(signal.SIGTERM)
        try:
            check(gw.wait(timeout=15) == 0, "gateway exits 0 on SIGTERM")
        except subprocess.TimeoutExpired:
            check(False, "gateway exits on SIGTERM")
    finally:
        stop_all()
        if failures:
            for name in ("insecure.log", "uas.log", "gateway.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path) as f:
                        tail = f.readlines()[-20:]
                    sys.stderr.write(f"--- {name}\n" + "".join(tail))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
