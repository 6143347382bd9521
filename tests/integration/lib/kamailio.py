"""Kamailio as the PBX stand-in: registrar with digest auth, usrloc, Path, call routing."""

import os
import subprocess

from . import harness, sipmsg

REALM = "pbx.test"
KAMAILIO = "/usr/sbin/kamailio"
KAMCMD = "/usr/sbin/kamcmd"


def load_users(path=None):
    """[(username, password, domain)] from the SIPp injection file (the one source of truth
    for both the subscriber table and the phones). Lines: user;password;domain;auth."""
    path = path or os.path.join(harness.SIPP_DIR, "users.csv")
    users = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line in ("SEQUENTIAL", "RANDOM", "USER"):
                continue
            user, pw, dom = line.split(";")[:3]
            users.append((user, pw, dom))
    return users


def write_users_csv(path, users, mode="SEQUENTIAL"):
    with open(path, "w") as f:
        f.write(mode + "\n")
        for user, pw, dom in users:
            # SIPp takes per-user credentials as a whole keyword from the file (field3).
            f.write("%s;%s;%s;[authentication username=%s password=%s]\n"
                    % (user, pw, dom, user, pw))


def write_subscriber_db(dbdir, users):
    """A db_text database with the subscriber table (plain passwords, calculate_ha1)."""
    os.makedirs(dbdir, exist_ok=True)
    with open(os.path.join(dbdir, "version"), "w") as f:
        f.write("table_name(string) table_version(int)\n")
        f.write("subscriber:7\nlocation:9\n")
    with open(os.path.join(dbdir, "subscriber"), "w") as f:
        f.write("id(int,auto) username(string) domain(string) password(string) "
                "ha1(string,null) ha1b(string,null)\n")
        for i, (user, pw, dom) in enumerate(users, 1):
            f.write("%d:%s:%s:%s::\n" % (i, user, dom, pw))


class Kamailio:
    """One Kamailio instance with its own config, runtime dir, pid file and control socket.

    ip: loopback address it listens on (IPv4 or IPv6). Ports are chosen free unless given.
    uas: (ip, port) of the SIPp UAS that answers calls to the number range uas_re; the UAS
    host is also the trusted trunk whose INVITEs need no authentication.
    tls: (cert_path, key_path) to enable a TLS listener too.
    """

    def __init__(self, h, name="pbx", ip="127.0.0.1", uas=("127.0.0.2", 5999),
                 uas_re="^5[0-9]{3}$", tls=None, users=None, debug=2, dbdir=None, ip6=None,
                 netns=None, children=2):
        self.h = h
        self.name = name
        self.ip = ip
        self.uas = uas
        self.uas_re = uas_re
        self.tls = tls
        self.users = users or load_users()
        self.debug = debug
        self.dir = h.subdir(name)
        self.rundir = h.subdir(name + "/run")
        self.dbdir = dbdir or os.path.join(self.dir, "db")
        if netns:
            # A namespace made by the test has nothing else listening in it.
            self.port, self.tls_port = 5060, (5061 if tls else None)
        else:
            self.port = h.free_port(ip)          # UDP and TCP
            self.tls_port = h.free_port(ip) if tls else None
        # Optional second (IPv6) address for phones, e.g. "::1"; the trunk stays on ip.
        self.ip6 = ip6
        self.port6 = h.free_port(ip6) if ip6 else None
        # Optional lib.netns.Netns to run in (a private "inside" network).
        self.netns = netns
        self.children = children
        self.proc = None

    def uri(self, transport="udp"):
        port = self.tls_port if transport == "tls" else self.port
        return "%s:%s" % (transport, sipmsg.hostport(self.ip, port))

    def hostport(self, transport="udp"):
        port = self.tls_port if transport == "tls" else self.port
        return sipmsg.hostport(self.ip, port)

    def render(self):
        with open(os.path.join(harness.KAMAILIO_DIR, "registrar.cfg.in")) as f:
            text = f.read()
        ip = "[%s]" % self.ip if ":" in self.ip else self.ip
        listen = ["listen=udp:%s:%d" % (ip, self.port), "listen=tcp:%s:%d" % (ip, self.port)]
        if self.ip6:
            listen += ["listen=udp:[%s]:%d" % (self.ip6, self.port6),
                       "listen=tcp:[%s]:%d" % (self.ip6, self.port6)]
        tls_global = ""
        tls_module = ""
        if self.tls:
            listen.append("listen=tls:%s:%d" % (ip, self.tls_port))
            tls_global = "enable_tls=yes"
            tls_cfg = os.path.join(self.dir, "tls.cfg")
            with open(tls_cfg, "w") as f:
                f.write("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
                        "require_certificate = no\nprivate_key = %s\ncertificate = %s\n"
                        "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
                        % (self.tls[1], self.tls[0]))
            tls_module = 'loadmodule "tls.so"\nmodparam("tls", "config", "%s")' % tls_cfg
        uas_ip = "[%s]" % self.uas[0] if ":" in self.uas[0] else self.uas[0]
        subst = {
            "DEBUG": str(self.debug),
            "CHILDREN": str(self.children),
            "REALM": REALM,
            "LISTEN": "\n".join(listen),
            "TLS_GLOBAL": tls_global,
            "TLS_MODULE": tls_module,
            "RUNDIR": self.rundir,
            "DBDIR": self.dbdir,
            "TRUNK_IP": self.uas[0],
            "UAS_RE": self.uas_re,
            "UAS_HOSTPORT": "%s:%d" % (uas_ip, self.uas[1]),
        }
        for k, v in subst.items():
            text = text.replace("@@%s@@" % k, v)
        path = os.path.join(self.dir, "kamailio.cfg")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, timeout=15):
        if not os.path.exists(os.path.join(self.dbdir, "subscriber")):
            write_subscriber_db(self.dbdir, self.users)
        cfg = self.render()
        argv = [KAMAILIO, "-f", cfg, "-DD", "-E", "-Y", self.rundir,
                "-P", os.path.join(self.rundir, "kamailio.pid"), "-m", "64", "-M", "8",
                "-w", self.dir]
        if self.netns:
            argv = self.netns.argv(argv)
        self.proc = self.h.spawn(self.name, argv)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15):
        def ready():
            if not self.proc.alive():
                raise harness.TestFailure("%s exited early (rc %s)" % (self.name,
                                                                       self.proc.popen.poll()))
            return sipmsg.ping(self.ip, self.port, "udp", timeout=0.3)
        harness.wait_until(ready, timeout, interval=0.1, what="%s to answer OPTIONS" % self.name)
        self.h.log("%s ready on %s" % (self.name, self.hostport()))

    def stop(self):
        if self.proc:
            self.proc.stop()

    def log(self):
        return self.proc.log() if self.proc else ""

    def received(self):
        """Every message the PBX received, as raw bytes, in order (from msg-received)."""
        out = []
        for line in self.log().splitlines():
            i = line.find("PBXIT-RCV ")
            if i < 0:
                continue
            j = line.find(" hex=", i)
            if j < 0:
                continue
            try:
                out.append(bytes.fromhex(line[j + 5:].strip()))
            except ValueError:
                pass
        return out

    def received_containing(self, marker):
        return [m for m in self.received() if marker in m]

    def kamcmd(self, *args, timeout=5):
        r = subprocess.run([KAMCMD, "-s", "unix:%s/kamailio_ctl" % self.rundir] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return r.stdout + r.stderr

    def contacts(self, user):
        """The registered contact bindings of user (kamcmd ul.lookup), "" if none."""
        out = self.kamcmd("ul.lookup", "location", "%s@%s" % (user, REALM))
        return out if "Contact" in out or "Address" in out else ""
