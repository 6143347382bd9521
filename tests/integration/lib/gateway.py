"""pbxguard gateway under test.

CLI: pbxguard gateway [-c FILE] [--listen URI]... [--upstream URI]... [--data-dir DIR]
[--foreground]. The test writes a small configuration (log to stderr, events to a file in
its temp dir) and passes listeners and upstreams on the command line.
"""

import json
import os

from . import harness, sipmsg

GW_IP = "127.0.0.4"


def uri(transport, ip, port):
    return "%s:%s" % (transport, sipmsg.hostport(ip, port))


def tls_section(cert, key, ca=None):
    """The gateway.tls section of the configuration (docs/configuration.md)."""
    text = "  tls:\n    cert: %s\n    key: %s\n" % (cert, key)
    if ca:
        text += "    ca: %s\n" % ca
    return text


def health_section(interval="1s", timeout="500ms", failures_to_down=2):
    """Fast upstream health checks, so failover happens within a test's time bound."""
    return ("  health:\n    interval: %s\n    timeout: %s\n    failures_to_down: %d\n"
            % (interval, timeout, failures_to_down))


class Gateway:
    """listen: [(transport, ip, port)]; a port of None is chosen free.
    upstreams: ["udp:127.0.0.1:5060", ...]. gateway_config: YAML lines of the gateway
    section (indented by two spaces), e.g. tls_section() or health_section().
    tcp_fallback: the upstreams go into the file (gateway.upstreams) with tcp_fallback, so
    messages too large for UDP reach the PBX over TCP (RFC 3261 §18.1.1); otherwise they
    are given with --upstream on the command line.
    shadow: general.shadow_mode, on by default: these tests exercise the proxy, and 300
    phones behind one address registering at 200/s look like enumeration and flooding to
    the detectors, which then record what they would do (events with "shadow": true) but
    enforce nothing. Tests of what the gateway blocks pass shadow=False.
    extra_config: top-level YAML sections appended to the file as written.
    The kernel's nftables are never touched (ban.nftables.enabled: false): a ban there would
    reach every other test and the host itself."""

    def __init__(self, h, listen, upstreams, gateway_config="", name="gateway", log_level="debug",
                 tcp_fallback=False, shadow=True, extra_config=""):
        if not h.pbxguard or not os.access(h.pbxguard, os.X_OK):
            raise harness.TestFailure("no pbxguard binary (pass --pbxguard PATH)")
        self.h = h
        self.name = name
        self.dir = h.subdir(name)
        self.data_dir = h.subdir(name + "/data")
        self.events_path = os.path.join(self.dir, "events.jsonl")
        self.listen = []
        ports = {}
        for transport, ip, port in listen:
            if port is None:
                # UDP and TCP listeners on one address share a port, as SIP expects.
                key = (ip, transport == "tls")
                port = ports.get(key) or h.free_port(ip)
                ports[key] = port
            self.listen.append((transport, ip, port))
        self.upstreams = list(upstreams)
        self.tcp_fallback = tcp_fallback
        self.config_path = os.path.join(self.dir, "pbxguard.yaml")
        with open(self.config_path, "w") as f:
            f.write("general:\n  data_dir: %s\n  shadow_mode: %s\n"
                    % (self.data_dir, "true" if shadow else "false"))
            f.write("ban:\n  nftables:\n    enabled: false\n")
            f.write("log:\n  level: %s\n  destination: stderr\n" % log_level)
            f.write("events:\n  destination: %s\n  flush_interval: 250ms\n" % self.events_path)
            if tcp_fallback:
                gateway_config += "  upstreams:\n" + "".join(
                    "    - uri: %s\n      tcp_fallback: true\n" % u for u in self.upstreams)
            if gateway_config:
                f.write("gateway:\n" + gateway_config)
            f.write(extra_config)
        self.proc = None

    def addr(self, transport="udp", family=4):
        """(ip, port) of the first listener of that transport and address family."""
        for t, ip, port in self.listen:
            if t == transport and ((":" in ip) == (family == 6)):
                return ip, port
        raise harness.TestFailure("gateway has no %s IPv%d listener" % (transport, family))

    def source_ips(self):
        """Addresses the PBX may see the gateway's requests come from: its UDP listeners,
        and for TCP upstreams whatever source the kernel picks for the outbound connection
        (127.0.0.1 towards a loopback PBX)."""
        ips = [ip for t, ip, _ in self.listen]
        if any(u.startswith(("tcp:", "tls:")) for u in self.upstreams):
            ips.append("127.0.0.1")
        return ips

    def start(self, timeout=15):
        argv = [self.h.pbxguard, "gateway", "-c", self.config_path, "--foreground",
                "--data-dir", self.data_dir]
        for t, ip, port in self.listen:
            argv += ["--listen", uri(t, ip, port)]
        if not self.tcp_fallback:
            for u in self.upstreams:
                argv += ["--upstream", u]
        self.proc = self.h.spawn(self.name, argv)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15):
        """Every listener answers an OPTIONS (the gateway relays it to a live upstream)."""
        for t, ip, port in self.listen:
            def ready():
                if not self.proc.alive():
                    raise harness.TestFailure("gateway exited early (rc %s)"
                                              % self.proc.popen.poll())
                return sipmsg.ping(ip, port, t, timeout=0.3)
            harness.wait_until(ready, timeout, interval=0.1,
                               what="gateway %s to answer OPTIONS" % uri(t, ip, port))
        self.h.log("gateway ready: %s" % ", ".join(uri(*x) for x in self.listen))

    def stop(self):
        if self.proc:
            self.proc.stop(grace=10)

    def finish(self):
        """Stops the gateway (SIGTERM: drain and exit) and fails the test unless it exited
        with status 0 and printed no sanitizer report (ASan/UBSan builds run this suite)."""
        harness.check(self.proc.alive(), "gateway died during the test")
        self.stop()
        rc = self.proc.popen.returncode
        log = self.log()
        for sign in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            harness.check(sign not in log, "gateway sanitizer report (%s), see its log" % sign)
        harness.check(rc == 0, "gateway exited with status %s after SIGTERM" % rc)

    def log(self):
        return self.proc.log() if self.proc else ""

    def events(self):
        out = []
        try:
            with open(self.events_path) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
        return out
