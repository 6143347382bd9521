"""The call and registration scenarios, run against any front (the PBX itself or the gateway).

Topology on loopback (all addresses in 127.0.0.0/8, no setup needed):
  PBX (Kamailio)        PBX_IP, its own free port (UDP+TCP, TLS optional)
  UAS / trunk (SIPp)    UAS_IP: answers calls to 5xxx; its INVITEs to the PBX need no auth
  phones (SIPp)         PHONE_IP: register with digest auth and call through the front
The front is (host, port) where phones send: the PBX itself in the direct tests, the
gateway's listener in the gateway tests.
"""

import errno
import socket

from . import harness, kamailio, sipp

PBX_IP = "127.0.0.1"
UAS_IP = "127.0.0.2"
PHONE_IP = "127.0.0.3"


def port_bound(ip, port, transport="udp"):
    """True when something listens on ip:port (readiness of a SIPp UAS, no traffic sent)."""
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((ip, port))
        return False
    except OSError as e:
        return e.errno == errno.EADDRINUSE
    finally:
        s.close()


class Topology:
    def __init__(self, h, tls=None, pbx_ip=PBX_IP, uas_ip=UAS_IP, phone_ip=PHONE_IP,
                 name="pbx", dbdir=None, ipv6=False):
        """ipv6: phones use ::1 and the PBX also listens on [::1] (trunk and UAS stay on
        IPv4: ::1 is the only IPv6 loopback address without changing the host)."""
        self.h = h
        if ipv6:
            phone_ip = "::1"
        self.uas_ip = uas_ip
        self.phone_ip = phone_ip
        self.uas_port = h.free_port(uas_ip)
        self.users = kamailio.load_users()
        self.pbx = kamailio.Kamailio(h, name=name, ip=pbx_ip, uas=(uas_ip, self.uas_port),
                                     tls=tls, users=self.users, dbdir=dbdir,
                                     ip6="::1" if ipv6 else None)

    def start(self):
        self.pbx.start()
        return self

    def start_uas(self, scenario="uas.xml", calls=1, name="uas", timeout=20):
        u = sipp.Sipp(self.h, name, scenario, local_ip=self.uas_ip, local_port=self.uas_port,
                      calls=calls, timeout=timeout, keys={"who": "uas"},
                      trace_msg=True).start()
        harness.wait_until(lambda: port_bound(self.uas_ip, self.uas_port) or
                           (not u.proc.alive() and _died(u)), 5, what="UAS to bind")
        return u


def _died(s):
    raise harness.TestFailure("%s exited early:\n%s" % (s.name, s.proc.log()[-2000:]))


def path_of(contact):
    """The Path field of kamcmd ul.lookup output ("" when not set)."""
    for line in contact.splitlines():
        line = line.strip()
        if line.startswith("Path:"):
            value = line[5:].strip()
            return "" if value == "[not set]" else value
    return ""


def register(h, front, transport, users, name="register", rate=200, expect_ok=True,
             local_ip=PHONE_IP):
    """REGISTERs every user (digest auth) through front.

    expect_ok True: all must succeed; False: none may succeed; None: just report.
    """
    inf = sipp.csv_for(h, name, users)
    timeout = max(10, len(users) // 20 + 10) if expect_ok is not None else 4
    s = sipp.Sipp(h, name, "register.xml", remote=front, transport=transport,
                  local_ip=local_ip, calls=len(users), rate=rate, inf=inf,
                  timeout=timeout, limit=100)
    r = s.run()
    if expect_ok is None:
        return r
    if expect_ok:
        sipp.expect_all(r, len(users), "REGISTER of %d users over %s" % (len(users), transport))
    elif r.successful != 0:
        # Refused (401/403) or dropped by a gateway that has seen enough: none may succeed.
        raise harness.TestFailure("REGISTER with wrong passwords over %s: %r, want none of "
                                  "%d to succeed" % (transport, r, len(users)))
    return r


def call_to_uas(h, topo, front, transport, user, callee="5000", scenario="call_auth.xml",
                uas_scenario="uas.xml", name="call"):
    """Phone user calls callee (a number answered by the UAS) through front."""
    uas = topo.start_uas(uas_scenario, name=name + "-uas")
    inf = sipp.csv_for(h, name, [user])
    r = sipp.Sipp(h, name, scenario, remote=front, transport=transport,
                  local_ip=topo.phone_ip, inf=inf, service=callee, timeout=15,
                  trace_msg=True).run()
    ru = uas.wait()
    sipp.expect_all(r, 1, "%s over %s (caller)" % (scenario, transport))
    sipp.expect_all(ru, 1, "%s over %s (UAS side)" % (uas_scenario, transport))
    return r, ru


def call_to_phone(h, topo, front, transport, user, name="incoming", pbx=None, check_path=None):
    """The trunk calls a registered phone: PBX lookup, then (through the Path) to the phone.

    The phone (SIPp) registers through front over transport, stays up, and answers the
    INVITE with its out-of-call scenario; the trunk's scenario checks that the 200 OK
    carries the phone's X-Answered-By, so it was the phone that answered.
    check_path: a substring the stored contact's Path must contain (the gateway address).
    """
    pbx = pbx or topo.pbx
    inf = sipp.csv_for(h, name + "-phone", [user])
    who = "phone-%s" % user[0]
    phone = sipp.Sipp(h, name + "-phone", "phone.xml", remote=front, transport=transport,
                      local_ip=topo.phone_ip, inf=inf, duration_ms=20000, timeout=30,
                      ooc="uas.xml", keys={"who": who}).start()

    def registered():
        if not phone.proc.alive():
            _died(phone)
        return pbx.contacts(user[0])
    contact = harness.wait_until(registered, 10, interval=0.1,
                                 what="%s to be registered at the PBX" % user[0])
    h.log("contact of %s: %s" % (user[0], " ".join(contact.split())))
    if check_path and check_path not in path_of(contact):
        raise harness.TestFailure("stored contact of %s lacks %r:\n%s"
                                  % (user[0], check_path, contact))
    trunk_port = h.free_port(topo.uas_ip)
    caller = [("9000", "x", kamailio.REALM)]
    inf2 = sipp.csv_for(h, name + "-trunk", caller)
    r = sipp.Sipp(h, name + "-trunk", "call.xml", remote=(pbx.ip, pbx.port), transport="udp",
                  local_ip=topo.uas_ip, local_port=trunk_port, inf=inf2, service=user[0],
                  timeout=15, trace_msg=True).run()
    phone.stop()
    sipp.expect_all(r, 1, "trunk call to registered %s over %s" % (user[0], transport))
    if ("X-Answered-By: %s" % who) not in r.messages():
        raise harness.TestFailure("the 200 OK did not come from phone %s" % user[0])
    return r


def cancel(h, topo, front, transport, user, name="cancel"):
    return call_to_uas(h, topo, front, transport, user, scenario="uac_cancel.xml",
                       uas_scenario="uas_ring.xml", name=name)


def reinvite(h, topo, front, transport, user, name="reinvite"):
    return call_to_uas(h, topo, front, transport, user, scenario="call_auth_reinvite.xml",
                       name=name)


def request_sources(pbx, method=None):
    """Source IPs of the requests the PBX's script saw (optionally of one method)."""
    ips = set()
    for line in pbx.log().splitlines():
        i = line.find("PBXIT-REQ ")
        if i < 0:
            continue
        parts = line[i:].split()
        if method and parts[1] != method:
            continue
        src = parts[-1]                     # proto:ip:port, ip may be IPv6
        ips.add(src.split(":", 1)[1].rsplit(":", 1)[0])
    return ips


def check_only_via(pbx, gateway_ips, phone_ip, what):
    """The phones never talked to the PBX directly: every request from them came via gateway."""
    ips = request_sources(pbx)
    if phone_ip in ips:
        raise harness.TestFailure("%s: the PBX received requests straight from the phone "
                                  "address %s (sources %s)" % (what, phone_ip, sorted(ips)))
    if not ips & set(gateway_ips):
        raise harness.TestFailure("%s: the PBX saw no request from the gateway %s (sources %s)"
                                  % (what, gateway_ips, sorted(ips)))


def tls_phone_calls(h, topo, proxy, ca, user, name="tlsphone", check_path=None):
    """A real TLS SIP stack (baresip) registers over TLS through proxy (ip, port), receives a
    call from the trunk through the PBX (auto-answer), and calls the UAS itself."""
    from . import baresip
    phone = baresip.Baresip(h, name, user, proxy, ca, local_ip=topo.phone_ip).start()
    contact = harness.wait_until(lambda: topo.pbx.contacts(user[0]), 10, interval=0.1,
                                 what="%s in usrloc" % user[0])
    h.log("contact of %s: %s" % (user[0], " ".join(contact.split())))
    if check_path and check_path not in path_of(contact):
        raise harness.TestFailure("stored contact of %s lacks Path %r:\n%s"
                                  % (user[0], check_path, contact))

    # Trunk -> PBX -> (TLS) phone.
    since = phone.mark()
    inf = sipp.csv_for(h, name + "-trunk", [("9000", "x", kamailio.REALM)])
    r = sipp.Sipp(h, name + "-trunk", "call_any.xml", remote=(topo.pbx.ip, topo.pbx.port),
                  local_ip=topo.uas_ip, local_port=h.free_port(topo.uas_ip), inf=inf,
                  service=user[0], timeout=15).run()
    sipp.expect_all(r, 1, "trunk call to TLS phone %s" % user[0])
    phone.wait_event("CALL_ESTABLISHED", 5, since)
    phone.wait_event("CALL_CLOSED", 5, since)

    # Phone -> (TLS) -> PBX -> UAS, with digest auth on the INVITE.
    uas = topo.start_uas("uas.xml", name=name + "-uas")
    baresip.dial_and_hangup(phone, "5000")
    sipp.expect_all(uas.wait(), 1, "TLS phone call to the UAS (UAS side)")
    phone.stop()
