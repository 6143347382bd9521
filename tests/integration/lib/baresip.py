"""baresip as a real TLS SIP phone (this Debian SIPp is built without TLS).

The phone runs with a private config directory, no sound card (aubridge as null audio),
auto-answer, and the ctrl_tcp module so the test can send commands (dial, hangup) as
netstring-framed JSON and read its events.
"""

import json
import os
import socket
import time

from . import harness, kamailio

BARESIP = "/usr/bin/baresip"
MODULES = "/usr/lib/baresip/modules"


class Baresip:
    """user: (user, password, domain). proxy: (ip, port) of the TLS SIP server to use as
    outbound proxy (the PBX or the gateway). ca: CA file that must verify the server."""

    def __init__(self, h, name, user, proxy, ca, local_ip="127.0.0.3", transport="tls"):
        self.h = h
        self.name = name
        self.user = user
        self.dir = h.subdir(name)
        self.local_ip = local_ip
        self.sip_port = h.free_port(local_ip)
        self.ctrl_port = h.free_port(local_ip)
        self.events = []
        self._buf = b""
        self._sock = None
        host = "[%s]" % proxy[0] if ":" in proxy[0] else proxy[0]
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("poll_method epoll\n")
            f.write("sip_listen %s:%d\n" % (local_ip, self.sip_port))
            f.write("sip_cafile %s\n" % ca)
            f.write("call_local_timeout 30\ncall_max_calls 4\n")
            f.write("audio_player aubridge,null\naudio_source aubridge,null\n"
                    "audio_alert aubridge,null\n")
            f.write("module_path %s\n" % MODULES)
            for m in ("g711.so", "aubridge.so"):
                f.write("module %s\n" % m)
            f.write("module_tmp account.so\n")
            f.write("module_app menu.so\nmodule_app ctrl_tcp.so\n")
            f.write("ctrl_tcp_listen %s:%d\n" % (local_ip, self.ctrl_port))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write('<sip:%s@%s;transport=%s>;auth_pass=%s;outbound="sip:%s:%d;transport=%s"'
                    ';regint=300;answermode=auto;audio_codecs=pcmu\n'
                    % (user[0], user[2], transport, user[1], host, proxy[1], transport))
        self.proc = None

    def start(self, timeout=10):
        self.proc = self.h.spawn(self.name, [BARESIP, "-f", self.dir], cwd=self.dir)

        def connect():
            if not self.proc.alive():
                raise harness.TestFailure("baresip exited early:\n%s" % self.proc.log()[-2000:])
            try:
                self._sock = socket.create_connection((self.local_ip, self.ctrl_port), 0.5)
                return True
            except OSError:
                return False
        harness.wait_until(connect, timeout, interval=0.1, what="baresip control socket")
        self._sock.settimeout(0.2)
        return self

    def _read(self):
        try:
            data = self._sock.recv(65536)
        except socket.timeout:
            return
        except OSError:
            return
        self._buf += data
        while True:
            colon = self._buf.find(b":")
            if colon < 0:
                return
            try:
                n = int(self._buf[:colon])
            except ValueError:
                raise harness.TestFailure("bad netstring from baresip: %r" % self._buf[:80])
            if len(self._buf) < colon + 1 + n + 1:
                return
            payload = self._buf[colon + 1:colon + 1 + n]
            self._buf = self._buf[colon + 2 + n:]
            try:
                self.events.append(json.loads(payload))
            except ValueError:
                pass

    def command(self, cmd, params=""):
        body = json.dumps({"command": cmd, "params": params, "token": cmd}).encode()
        self._sock.sendall(b"%d:%s," % (len(body), body))

    def mark(self):
        """Index to pass as since= so wait_event() only looks at later events."""
        self._read()
        return len(self.events)

    def wait_event(self, etype, timeout=10, since=0):
        """Waits for an event of type etype (e.g. REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED)
        among the events received from index since on."""
        seen = since

        def found():
            nonlocal seen
            self._read()
            for ev in self.events[seen:]:
                if ev.get("type") == etype:
                    return ev
            if not self.proc.alive():
                raise harness.TestFailure("baresip exited")
            return None
        return harness.wait_until(found, timeout, interval=0.02,
                                  what="baresip event %s" % etype)

    def has_event(self, etype):
        self._read()
        return any(ev.get("type") == etype for ev in self.events)

    def stop(self):
        if self._sock:
            self._sock.close()
        if self.proc:
            self.proc.stop()


def dial_and_hangup(phone, number, hold_s=0.5):
    """The phone calls number and hangs up once the call is established."""
    since = phone.mark()
    phone.command("dial", "sip:%s@%s" % (number, kamailio.REALM))
    phone.wait_event("CALL_ESTABLISHED", 15, since)
    time.sleep(hold_s)  # keep the call up briefly: media and timers run, not a sync point
    phone.command("hangup")
    phone.wait_event("CALL_CLOSED", 10, since)
