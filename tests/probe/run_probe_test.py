#!/usr/bin/env python3
"""Integration test: pbxguard probe against Kamailio stand-ins on loopback.

insecure.cfg answers enumeration differently (404 vs 401/480/200), relays unauthenticated
INVITEs to outside numbers to a SIPp "PSTN gateway", answers OPTIONS with its version and has
no flood limit; the probe must grade it F with those specific findings. secure.cfg challenges
everything, drops scanners, limits floods with pike and hides its version; the same probe,
with the same wordlist, must find nothing above info. The insecure instance is the control:
every attack the secure one withstands succeeds against it.

Only loopback addresses are used; every wait is bounded; readiness is checked (an OPTIONS
answered by Kamailio, the UAS socket present in /proc/net/udp), never slept for.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
from probe_lib import (HERE, check, dump_logs, failures, find_tools,  # noqa: E402
                       options_answered, procs, run_probe, start, stop_all, udp_bound,
                       write_kamailio_cfg)

PBX = sys.argv[1] if len(sys.argv) > 1 else "build/src/app/pbxguard"
INSECURE = "127.66.1.1"
OUTSIDE = "127.66.1.2"
SECURE = "127.66.1.3"
TIMING = "127.66.1.4"
ANSWER = "127.66.1.6"
UAS_PORT = 5080
EXTENSIONS = "1000-1003"  # 1001 and 1002 exist; 1003 registers without credentials

def probe(target, *extra):
    return run_probe(PBX, target, EXTENSIONS, *extra)


def ids(report):
    return [f["id"] for f in report["findings"]] if report else []


def main():
    tools = find_tools()
    if not tools:
        return 77
    kamailio, sipp, mpath = tools
    tmp = tempfile.mkdtemp(prefix="pbxguard-probe-")
    try:
        for name in ("insecure", "secure", "timing"):
            db = os.path.join(tmp, name + "-db")
            os.makedirs(db)
            shutil.copy(os.path.join(HERE, "kamailio/db/version"), db)
            with open(os.path.join(HERE, "kamailio/db/subscriber")) as f:
                rows = f.read()
            if name == "secure":
                rows = rows.replace(":1001:pbx.test:1234:", ":1001:pbx.test:Kp8vW2qZx7Lm4Rt9:")
            with open(os.path.join(db, "subscriber"), "w") as f:
                f.write(rows)
            write_kamailio_cfg(name, os.path.join(tmp, name + ".cfg"), mpath, db,
                               f"{OUTSIDE}:{UAS_PORT}", tmp, f"{ANSWER}:{UAS_PORT}")
            os.makedirs(os.path.join(tmp, name + "-run"))
        # The insecure stand-in also offers TLS 1.0+ with a self-signed certificate made now.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", "/CN=pbx.test", "-keyout", os.path.join(tmp, "key.pem"),
                        "-out", os.path.join(tmp, "cert.pem")], check=True,
                       capture_output=True, timeout=60)
        words = os.path.join(tmp, "words.txt")
        with open(words, "w") as f:
            f.write("password\nsecret\n1001\n123456\n1234\nletmein\n")

        uas_log = open(os.path.join(tmp, "uas.log"), "w")
        start([sipp, "-sf", os.path.join(HERE, "outside-uas.xml"), "-i", OUTSIDE, "-p",
               str(UAS_PORT), "-nostdin", "-m", "1000"], uas_log)
        # Exits 0 after exactly one call that got its ACK and BYE.
        answer = start([sipp, "-sf", os.path.join(HERE, "outside-answer.xml"), "-i", ANSWER,
                        "-p", str(UAS_PORT), "-nostdin", "-m", "1"],
                       open(os.path.join(tmp, "answer.log"), "w"))
        for name, addr in (("insecure", INSECURE), ("secure", SECURE), ("timing", TIMING)):
            log = open(os.path.join(tmp, name + ".log"), "w")
            extra = ["-A", "WITH_TLS", "-l", f"tls:{addr}:5061"] if name == "insecure" else []
            start([kamailio, "-f", os.path.join(tmp, name + ".cfg"), "-DD", "-E",
                   "-Y", os.path.join(tmp, name + "-run"),
                   "-l", f"udp:{addr}:5060", "-l", f"tcp:{addr}:5060"] + extra, log)
        check(udp_bound(OUTSIDE, UAS_PORT), "outside UAS listening")
        check(udp_bound(ANSWER, UAS_PORT), "answering outside UAS listening")
        check(options_answered(INSECURE), "insecure Kamailio answers")
        check(options_answered(SECURE), "secure Kamailio answers")
        check(options_answered(TIMING), "timing Kamailio answers")
        if failures:
            return 1

        # Safety interlock: a wordlist without the ownership flag is refused.
        r = subprocess.run([PBX, "probe", INSECURE, "--wordlist", words], capture_output=True,
                           timeout=30)
        check(r.returncode == 2, "--wordlist without --i-own-this-target is a usage error")

        rc, rep, err = probe(INSECURE, "--wordlist", words, "--i-own-this-target",
                             "--fail-on", "high")
        got = ids(rep)
        print("insecure:", got, file=sys.stderr)
        check(rep is not None and rep["grade"] == "F", "insecure graded F")
        check(rc == 1, "insecure fails --fail-on high (exit 1)")
        for want in ("PRB-ROUTE-001", "PRB-ENUM-001", "PRB-FLOOD-001", "PRB-VER-001",
                     "PRB-OPT-001", "PRB-PASS-001", "PRB-TLS-001", "PRB-TLS-003",
                     "PRB-REG-001"):
            check(want in got, f"insecure: {want}")
        enum = [f["evidence"] for f in rep["findings"] if f["id"] == "PRB-ENUM-001"] if rep else []
        check(len(enum) == 3 and all("1001=" in e and "1002=" in e and "1000=" not in e
                                     for e in enum),
              "insecure: enumeration names 1001 and 1002 for REGISTER, INVITE and OPTIONS")
        reg = [f["evidence"] for f in rep["findings"] if f["id"] == "PRB-REG-001"] if rep else []
        check(reg and "REGISTER for 1003" in reg[0], "insecure: open registration of 1003 found")
        pw = [f["evidence"] for f in rep["findings"] if f["id"] == "PRB-PASS-001"] if rep else []
        check(pw and "extension 1001" in pw[0] and "1234" not in pw[0].replace("1001", ""),
              "insecure: weak password found for 1001, value masked")

        # The same over stream transports: TCP, and TLS (framing through OpenSSL).
        for transport in ("tcp", "tls"):
            rc, rep, err = probe(INSECURE, "--transport", transport, "--no-flood", "--rate", "50")
            got = ids(rep)
            print(f"insecure over {transport}:", got, err, file=sys.stderr)
            check("PRB-ROUTE-001" in got and got.count("PRB-ENUM-001") == 3,
                  f"insecure over {transport}: routing and enumeration found")

        # A routed call that is answered: the probe must ACK and BYE it at once.
        rc, rep, err = probe(INSECURE, "--number", "+442079460000", "--no-flood", "--rate", "50",
                             "--extensions", "1000")
        route = [f["evidence"] for f in rep["findings"] if f["id"] == "PRB-ROUTE-001"] if rep else []
        check(route and "answered: ACK and BYE sent" in route[0],
              "answered outside call reported as routed")
        try:
            answer_rc = answer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            answer_rc = None
        check(answer_rc == 0, "answering UAS saw ACK and BYE (sipp exit %s)" % answer_rc)

        # Same answers for everyone, but existing users answer later: timing gives them away.
        rc, rep, err = probe(TIMING, "--no-flood", "--rate", "20")
        got = ids(rep)
        print("timing:", got, err, file=sys.stderr)
        timing = [f["evidence"] for f in rep["findings"] if f["id"] == "PRB-ENUM-002"] if rep else []
        check("PRB-ENUM-001" not in got, "timing: codes are identical for every user")
        check(len(timing) == 3 and all("1001=" in e and "1002=" in e and "1000=" not in e
                                       for e in timing),
              "timing: PRB-ENUM-002 names 1001 and 1002 for REGISTER, INVITE and OPTIONS")

        rc, rep, err = probe(SECURE, "--wordlist", words, "--i-own-this-target",
                             "--fail-on", "low")
        got = ids(rep)
        print("secure:", got, err, file=sys.stderr)
        check(rep is not None and rep["grade"] == "A", "secure graded A")
        check(rc == 0, "secure passes --fail-on low (exit 0)")
        check(all(f["severity"] == "info" for f in (rep["findings"] if rep else [])),
              "secure: nothing above info")
        stopped = [p.poll() for p in procs if p is not answer]
        check(all(s is None for s in stopped), "stand-ins still running at the end")
    finally:
        stop_all()
        if failures:
            dump_logs(tmp, ("insecure.log", "secure.log", "timing.log", "uas.log", "answer.log"),
                      15)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
