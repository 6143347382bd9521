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
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
from probe_lib import (HERE, check, dump_logs, failures, find_tools,  # noqa: E402
                       options_answered, procs, run_probe, start, stop_all, udp_bound,
                       write_kamailio_cfg)

PBX = sys.argv[1] if len(sys.argv) > 1 else "build/src/app/pbxguard"
INSECURE = "127.66.3.1"
OUTSIDE = "127.66.3.2"
GATEWAY = "127.66.3.4"
UAS_PORT = 5080
EXTENSIONS = "1000-1003"

def probe(target):
    return run_probe(PBX, target, EXTENSIONS, "--no-flood", "--rate", "20")


def findings(report, fid):
    return [f["evidence"] for f in report["findings"] if f["id"] == fid] if report else []


def names_subscriber(evidence):
    return "1001=" in evidence or "1002=" in evidence


def main():
    tools = find_tools()
    if not tools:
        return 77
    kamailio, sipp, mpath = tools
    tmp = tempfile.mkdtemp(prefix="pbxguard-probe-gw-")
    try:
        db = os.path.join(tmp, "db")
        os.makedirs(db)
        for f in ("version", "subscriber"):
            shutil.copy(os.path.join(HERE, "kamailio/db", f), db)
        write_kamailio_cfg("insecure", os.path.join(tmp, "insecure.cfg"), mpath, db,
                           f"{OUTSIDE}:{UAS_PORT}", tmp, f"{OUTSIDE}:{UAS_PORT}")
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
            dump_logs(tmp, ("insecure.log", "uas.log", "gateway.log"), 20)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
