"""Packet capture and offline sensor runs for the replay tests (test_attack_replay.py).

- Capture: tcpdump on the loopback interface, writing every packet at once (-U) to a pcap
  file, restricted by a BPF filter to one SIP address and port. Readiness is proved, not
  waited for: a CRLF keep-alive (RFC 5626 §3.5.1, ignored by SIP servers and skipped by the
  sensor as non-SIP) is sent from a marker address until the file holds a packet.
- sensor(): `pbxguard sensor -r FILE --pbx ADDR:PORT --json`, its JSON lines parsed.
- gateway_bans() / sensor_bans(): the bans of each, as a set of (address, rule).

Every loop here is bounded in count and time.
"""

import json
import os
import shutil
import signal
import socket
import subprocess

from . import harness, sipmsg

TCPDUMP = "/usr/bin/tcpdump"
PCAP_HEADER = 24  # a pcap file holding no packet is just its global header


def keepalive(target, src_ip):
    """One CRLF CRLF keep-alive datagram from src_ip to target."""
    s = socket.socket(socket.AF_INET6 if ":" in target[0] else socket.AF_INET,
                      socket.SOCK_DGRAM)
    try:
        s.bind((src_ip, 0))
        s.sendto(b"\r\n\r\n", target)
    except OSError:
        pass
    finally:
        s.close()


class Capture:
    """tcpdump -i lo of everything to or from ip:port (UDP and TCP), into path."""

    def __init__(self, h, ip, port, marker_ip, name="tcpdump"):
        self.h = h
        self.ip = ip
        self.port = port
        self.marker_ip = marker_ip
        self.name = name
        self.path = h.path(name + ".pcap")
        self.proc = None

    def start(self, timeout=15):
        tool = shutil.which("tcpdump") or TCPDUMP
        if not os.path.exists(tool):
            raise harness.TestFailure("tcpdump missing (Debian package tcpdump)")
        bpf = "host %s and port %d" % (self.ip, self.port)
        # -Z root: Debian's tcpdump otherwise drops to its own user after opening the
        # interface and could not write into the test's private (0700) directory.
        # -s 0: whole frames, as the sensor's live capture takes them.
        self.proc = self.h.spawn(self.name, [tool, "-i", "lo", "-n", "-s", "0", "-U",
                                             "-Z", "root", "-w", self.path, bpf])

        def capturing():
            if not self.proc.alive():
                raise harness.TestFailure("tcpdump exited early: %s" % self.proc.log())
            keepalive((self.ip, self.port), self.marker_ip)
            try:
                return os.path.getsize(self.path) > PCAP_HEADER
            except OSError:
                return False
        harness.wait_until(capturing, timeout, interval=0.1, what="tcpdump to capture")
        self.h.log("capturing %s into %s" % (bpf, self.path))
        return self

    def stop(self, timeout=10):
        """SIGINT (tcpdump flushes and closes the file), then waits for it to exit."""
        if self.proc and self.proc.alive():
            os.kill(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout)
        size = os.path.getsize(self.path)
        self.h.log("capture stopped: %d bytes; %s" % (size, self.proc.log().strip()[-200:]))
        return size


class SensorRun:
    def __init__(self, rc, lines, stderr):
        self.rc = rc
        self.lines = lines
        self.stderr = stderr

    def of_type(self, kind):
        return [x for x in self.lines if x.get("type") == kind]

    def summary(self):
        s = self.of_type("summary")
        return s[-1] if s else None


def sensor(h, pcap, pbx, config=None, timeout=60, name="sensor"):
    """pbxguard sensor [-c config] -r pcap --pbx ADDR:PORT --json; returns a SensorRun.
    Fails the test on a usage error (exit 2), unparsable output or a sanitizer report."""
    argv = [h.pbxguard, "sensor"]
    if config:
        argv += ["-c", config]
    argv += ["-r", pcap, "--pbx", sipmsg.hostport(*pbx), "--json"]
    h.log("run %s" % " ".join(argv))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    with open(h.path(name + ".log"), "w") as f:
        f.write(" ".join(argv) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr)
    for sign in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        harness.check(sign not in r.stderr, "sensor sanitizer report (%s): %s"
                      % (sign, r.stderr[-3000:]))
    harness.check(r.returncode in (0, 1), "sensor exited %d: %s" % (r.returncode, r.stderr))
    lines = []
    for line in r.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            raise harness.TestFailure("sensor --json printed a line that is not JSON: %r"
                                      % line[:300])
    return SensorRun(r.returncode, lines, r.stderr)


def sensor_bans(run):
    """{(address, rule)} of the sensor's "ban" lines (scopes without /32)."""
    return {(b["scope"].split("/32")[0], b["rule"]) for b in run.of_type("ban")}


def gateway_bans(h, data_dir, timeout=10):
    """{(address, rule)} of `pbxguard ctl --data-dir DIR --json ban list`."""
    argv = [h.pbxguard, "ctl", "--data-dir", data_dir, "--json", "ban", "list"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    harness.check(r.returncode == 0, "ctl ban list failed (%s): %s%s"
                  % (r.returncode, r.stdout, r.stderr))
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        raise harness.TestFailure("ctl --json ban list is not JSON: %r" % r.stdout[:500])
    harness.check(isinstance(doc, list), "ctl --json ban list is not an array: %r" % doc)
    return {(b["scope"].split("/32")[0], b["rule"]) for b in doc}
