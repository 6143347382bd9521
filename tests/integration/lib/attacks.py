"""Attack tools and targets for the gateway's attack tests (tests/integration/test_attack_*).

- InsecurePbx: the probe's insecure Kamailio stand-in (tests/probe/kamailio/insecure.cfg),
  which answers enumeration differently (404 for unknown users) and has a weak password
  (1001/1234). Its challenge is switched to qop=auth: Debian's SIPVicious 0.3.3 computes a
  wrong digest response for a challenge without qop, so stock svcrack would never crack it
  and the control would prove nothing.
- sipvicious(): svmap / svwar / svcrack through tests/integration/attacks/sv.py, which gives
  each run its own source address (0.3.3 ignores -b) and optionally another User-Agent.
- Hand-made SIP for what no packaged tool does: a digest brute force from many loopback
  source addresses against one account, and a malformed-message flood.
- SipStream / stream_register_attempt(): digest guesses on one TCP or TLS connection.

Every loop here is bounded in count and time.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time

from . import harness, sipmsg

PROBE_KAMAILIO = os.path.join(harness.REPO, "tests", "probe", "kamailio")
SV = os.path.join(harness.IT_DIR, "attacks", "sv.py")
KAMAILIO = "/usr/sbin/kamailio"

# The insecure stand-in's subscribers (tests/probe/kamailio/db/subscriber).
REAL_EXTENSIONS = {"1001", "1002"}
OPEN_EXTENSION = "1003"  # registers without credentials (an open registration)
ALL_EXTENSIONS = REAL_EXTENSIONS | {OPEN_EXTENSION}
WEAK_USER, WEAK_PASSWORD = "1001", "1234"
REALM = "pbx.test"


class InsecurePbx:
    """The probe's insecure Kamailio stand-in on ip:port (UDP and TCP), qop=auth."""

    def __init__(self, h, ip, name="insecure-pbx"):
        self.h = h
        self.ip = ip
        self.name = name
        self.port = h.free_port(ip)
        self.dir = h.subdir(name)
        self.proc = None

    def uri(self, transport="udp"):
        return "%s:%s" % (transport, sipmsg.hostport(self.ip, self.port))

    def start(self, timeout=15):
        mods = sorted(glob.glob("/usr/lib/*/kamailio/modules"))
        if not mods or not os.path.exists(KAMAILIO):
            raise harness.TestFailure("kamailio or its modules missing")
        db = os.path.join(self.dir, "db")
        run = os.path.join(self.dir, "run")
        os.makedirs(db, exist_ok=True)
        os.makedirs(run, exist_ok=True)
        for f in ("version", "subscriber"):
            shutil.copy(os.path.join(PROBE_KAMAILIO, "db", f), db)
        with open(os.path.join(PROBE_KAMAILIO, "insecure.cfg")) as f:
            cfg = f.read()
        want = 'auth_challenge("$fd", "0")'
        if want not in cfg:
            raise harness.TestFailure("insecure.cfg changed: no %s to switch to qop=auth" % want)
        # Calls to outside numbers go to a discard address: routing is not what is tested.
        cfg = (cfg.replace(want, 'auth_challenge("$fd", "1")')
               .replace("@MPATH@", mods[0] + "/").replace("@DBDIR@", db)
               .replace("@OUTSIDE@", "127.0.0.1:9").replace("@OUTSIDE_ANSWER@", "127.0.0.1:9")
               .replace("@TLSDIR@", self.dir))
        path = os.path.join(self.dir, "kamailio.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        hp = sipmsg.hostport(self.ip, self.port)
        self.proc = self.h.spawn(self.name, [KAMAILIO, "-f", path, "-DD", "-E", "-Y", run,
                                             "-l", "udp:" + hp, "-l", "tcp:" + hp])

        def ready():
            if not self.proc.alive():
                raise harness.TestFailure("%s exited early" % self.name)
            return sipmsg.ping(self.ip, self.port, "udp", timeout=0.3)
        harness.wait_until(ready, timeout, interval=0.1, what="%s to answer" % self.name)
        self.h.log("%s ready on %s" % (self.name, hp))
        return self


class SvResult:
    def __init__(self, rc, out, elapsed):
        self.rc = rc
        self.out = out
        self.elapsed = elapsed

    def extensions(self):
        """Extensions svwar reported (its result table), as a set of strings."""
        return set(re.findall(r"^\|\s*(\d+)\s*\|\s*(?:reqauth|noauth|weird)", self.out, re.M))

    def devices(self):
        """Devices svmap reported (its result table: | ip:port | user agent |...)."""
        return re.findall(r"^\|\s*([0-9a-fA-F.:\[\]]+:\d+)\s*\|", self.out, re.M)

    def cracked(self):
        """{extension: password} svcrack reported."""
        return dict(re.findall(r"^\|\s*(\d+)\s*\|\s*(\S+)\s*\|", self.out, re.M))

    def __repr__(self):
        return "sv(rc=%s, %.1fs): %s" % (self.rc, self.elapsed, self.out[-1500:])


def sipvicious(h, tool, args, source=None, ua=None, timeout=90, name=None):
    """Runs svmap / svwar / svcrack (bounded by timeout) and returns an SvResult."""
    if not shutil.which(tool):
        raise harness.TestFailure("%s missing (Debian package sipvicious)" % tool)
    argv = [sys.executable, SV, tool]
    if source:
        argv += ["--sv-source", source]
    if ua:
        argv += ["--sv-ua", ua]
    argv += list(args)
    h.log("run %s" % " ".join(argv))
    t0 = time.monotonic()
    # Its own working directory: the tools keep session files under ~/.sipvicious.
    env = dict(os.environ, HOME=h.subdir("sv-home"))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           cwd=h.subdir("sv-home"))
        rc, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc = "timeout"
        out = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(
            errors="replace")
    res = SvResult(rc, out, time.monotonic() - t0)
    with open(h.path("%s.log" % (name or tool)), "a") as f:
        f.write(" ".join(argv) + "\n" + out + "\n")
    return res


def write_wordlist(path, words):
    with open(path, "w") as f:
        f.write("".join(w + "\n" for w in words))
    return path


# ---------------------------------------------------------------------------------------
# Hand-made SIP

def _hdr(resp, name):
    m = re.search(r"^%s\s*:\s*(.*?)\r?$" % name, resp, re.M | re.I)
    return m.group(1) if m else None


def _param(value, name):
    m = re.search(r'%s="?([^",]*)"?' % name, value or "", re.I)
    return m.group(1) if m else None


def _answer(resp, user, password, uri):
    """The Authorization value answering the 401/407 resp for a REGISTER to uri."""
    chal = _hdr(resp, "WWW-Authenticate") or _hdr(resp, "Proxy-Authenticate")
    realm, nonce = _param(chal, "realm"), _param(chal, "nonce")
    qop = "auth" if "auth" in (_param(chal, "qop") or "") else None
    return digest(user, realm, password, "REGISTER", uri, nonce, qop)


def _register(target, src, user, domain, call_id, cseq, branch, auth=None, transport="UDP"):
    uri = "sip:%s" % domain
    lines = [
        "REGISTER %s SIP/2.0" % uri,
        "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport" % (transport, sipmsg.hostport(*src), branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (user, domain, call_id[:8]),
        "To: <sip:%s@%s>" % (user, domain),
        "Call-ID: %s" % call_id,
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:%s@%s>" % (user, sipmsg.hostport(*src)),
        "Expires: 60",
        "User-Agent: Yealink SIP-T46S 66.86.0.15",
    ]
    if auth:
        lines.append("Authorization: " + auth)
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), uri


def digest(user, realm, password, method, uri, nonce, qop=None):
    """RFC 2617 digest response (MD5; qop=auth when the challenge offers it)."""
    ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    if qop:
        cnonce, nc = os.urandom(8).hex(), "00000001"
        resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2)).encode())
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"'
                % (user, realm, nonce, uri, resp.hexdigest(), nc, cnonce))
    resp = hashlib.md5(("%s:%s:%s" % (ha1, nonce, ha2)).encode()).hexdigest()
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=MD5' % (user, realm, nonce, uri, resp))


def register_attempt(target, src_ip, user, password, domain, timeout=0.5):
    """One REGISTER + digest answer from src_ip over UDP. Returns the final status code
    (200, 401, 403...), or None when nothing came back (dropped or banned)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src_ip, 0))
        s.settimeout(timeout)
        src = s.getsockname()
        call_id = os.urandom(8).hex()
        data, uri = _register(target, src, user, domain, call_id, 1, os.urandom(6).hex())
        s.sendto(data, target)
        resp = s.recv(65535).decode(errors="replace")
        code = sipmsg.status_code(resp.encode())
        if code not in (401, 407):
            return code
        auth = _answer(resp, user, password, uri)
        data, _ = _register(target, src, user, domain, call_id, 2, os.urandom(6).hex(), auth)
        s.sendto(data, target)
        while True:
            resp = s.recv(65535)
            code = sipmsg.status_code(resp)
            if code and code >= 200:
                return code
    except (socket.timeout, OSError):
        return None
    finally:
        s.close()


def malformed_messages(n, src, target):
    """n distinct malformed requests (bad start line, duplicate Content-Length, garbage)."""
    out = []
    for i in range(n):
        kind = i % 4
        tag = os.urandom(4).hex()
        if kind == 0:
            m = "INVITE sip:1000@%s\r\nVia: SIP/2.0/UDP %s\r\n\r\n" % (target[0], src[0])
        elif kind == 1:
            m = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n"
                 "Content-Length: 5\r\nContent-Length: 0\r\n\r\n" % (target[0], src[0], tag))
        elif kind == 2:
            m = "\x00\x01\x02garbage-%s %s\r\n\r\n" % (tag, "A" * 64)
        else:
            m = ("REGISTER sip:%s SIP/2.0\r\nVia SIP/2.0/UDP no-colon\r\nCall-ID: %s\r\n\r\n"
                 % (target[0], tag))
        out.append(m.encode())
    return out


def send_burst(target, src_ip, messages, rate=None, max_seconds=10):
    """Sends messages from src_ip (one UDP socket), at most rate per second when given.
    Returns how many were sent. Bounded by len(messages) and max_seconds."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    t0 = time.monotonic()
    try:
        s.bind((src_ip, 0))
        for m in messages:
            if time.monotonic() - t0 > max_seconds:
                break
            try:
                s.sendto(m, target)
                sent += 1
            except OSError:
                pass
            if rate:
                due = t0 + sent / float(rate)
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing of the attack, not synchronisation
    finally:
        s.close()
    return sent


def ctl(h, data_dir, *args, timeout=10):
    """pbxguard ctl --data-dir DIR ARGS...; returns (rc, stdout)."""
    r = subprocess.run([h.pbxguard, "ctl", "--data-dir", data_dir] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def banned(h, data_dir):
    """Set of addresses in `pbxguard ctl ban list` (scopes without /32)."""
    rc, out = ctl(h, data_dir, "ban", "list")
    if rc != 0:
        raise harness.TestFailure("ctl ban list failed (%s): %s" % (rc, out))
    found = set()
    for ip in re.findall(r"(\d+\.\d+\.\d+\.\d+)(?:/32)?\b", out):
        found.add(ip)
    return found


def ban_scopes(h, data_dir):
    """[{scope, rule, ...}] from `pbxguard ctl --json ban list`: IPv6 addresses and /64
    prefixes as the gateway stores them."""
    rc, out = ctl(h, data_dir, "--json", "ban", "list")
    if rc != 0:
        raise harness.TestFailure("ctl --json ban list failed (%s): %s" % (rc, out))
    try:
        return json.loads(out)
    except ValueError:
        raise harness.TestFailure("ctl --json ban list: not JSON: %r" % out[:500])


# ---------------------------------------------------------------------------------------
# SIP over one TLS (or TCP) connection, as a guessing client keeps it open

class SipStream:
    """One stream connection from src_ip to target; transport "tcp" or "tls" (no
    certificate check: a password guesser does not care whom it talks to)."""

    def __init__(self, target, src_ip, transport="tls", timeout=2):
        self.transport = transport
        self.buf = b""
        raw = socket.create_connection(target, timeout=timeout, source_address=(src_ip, 0))
        try:
            if transport == "tls":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                raw = ctx.wrap_socket(raw)
        except (OSError, ssl.SSLError):
            raw.close()
            raise
        self.sock = raw
        self.local = raw.getsockname()[:2]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _message(self, deadline):
        """The next whole message (RFC 3261 §18.3: framed by Content-Length), None at EOF
        or when deadline passes."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                m = re.search(rb"^(?:Content-Length|l)\s*:\s*(\d+)", self.buf[:end], re.M | re.I)
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            chunk = self.sock.recv(65535)
            if not chunk:
                return None
            self.buf += chunk

    def request(self, data, cseq, timeout=1.0):
        """Sends data and returns the final response to CSeq number cseq (text), or None
        when none came within timeout or the connection was closed."""
        deadline = time.monotonic() + timeout
        try:
            self.sock.sendall(data)
            while True:
                msg = self._message(deadline)
                if msg is None:
                    return None
                code = sipmsg.status_code(msg)
                text = msg.decode(errors="replace")
                got = _hdr(text, "CSeq") or ""
                if code >= 200 and got.split()[:1] == [str(cseq)]:
                    return text
        except (OSError, ssl.SSLError):
            return None


def stream_register_attempt(conn, user, password, domain, timeout=1.0):
    """One REGISTER + digest answer on an open SipStream. Returns the final status code
    (200, 401, 403...), or None when nothing came back (dropped, banned, closed)."""
    via = conn.transport.upper()
    call_id = os.urandom(8).hex()
    data, uri = _register(None, conn.local, user, domain, call_id, 1, os.urandom(6).hex(),
                          transport=via)
    resp = conn.request(data, 1, timeout)
    if resp is None:
        return None
    code = sipmsg.status_code(resp.encode())
    if code not in (401, 407):
        return code
    auth = _answer(resp, user, password, uri)
    data, _ = _register(None, conn.local, user, domain, call_id, 2, os.urandom(6).hex(), auth,
                        transport=via)
    resp = conn.request(data, 2, timeout)
    return sipmsg.status_code(resp.encode()) if resp is not None else None
