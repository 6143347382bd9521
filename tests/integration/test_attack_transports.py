#!/usr/bin/env python3
"""Attacks that do not come over UDP/IPv4: a password guesser over TLS and a scanner on IPv6.

Topology: the harness's Kamailio registrar as the PBX, with a TLS listener and a second
listener on [::1]; pbxguard gateway in front (detection enforced, not in shadow mode) with a
TLS listener on GW_IP and a UDP listener on [::1], relaying to the PBX over UDP/IPv4.

TLS brute force: one TLS connection, REGISTERs with wrong digest credentials for one real
subscriber (each answered to its own 401 challenge). Control: straight at the PBX's TLS
listener every guess is answered 401/403 (the PBX never stops answering, which is what
makes guessing work). Through the gateway: the source is banned at the brute-force
threshold, later guesses get no answer, a new TLS connection from it gets none either, a
`det.bruteforce` ban event names it and `pbxguard ctl ban list` lists it, while a phone on
another address still registers over TLS.

IPv6 scanner: svmap -6 from ::1. Control: it finds the PBX on [::1]. Through the gateway's
[::1] listener it finds nothing, the scanner ban event carries the ::1 source and the ban
list holds an IPv6 scope (::1, or its /64).
"""
import ipaddress
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import attacks, gateway, harness, scenarios, sipmsg, tlsutil  # noqa: E402

PBX_IP = "127.87.0.1"
UAS_IP = "127.87.0.2"
CONTROL_SRC = "127.87.0.9"
TLS_ATTACKER = "127.88.0.1"
LEGIT_IP = "127.88.0.9"
V6 = "::1"
GUESSES = 40
THRESHOLD = 8  # detect.bruteforce.failures (default)
VICTIM, LEGIT = 7, 8  # indexes in users.csv


def guess_over_stream(front, src, transport, victim, n):
    """n wrong guesses for victim on one connection; the list of final status codes (None:
    no answer). Stops after three unanswered guesses: the connection is of no more use."""
    user, _, domain = victim
    codes = []
    conn = attacks.SipStream(front, src, transport)
    try:
        for i in range(n):
            codes.append(attacks.stream_register_attempt(conn, user, "guess-%03d" % i, domain))
            if codes[-3:] == [None, None, None]:
                break
    finally:
        conn.close()
    return codes


def tls_brute_force(h, topo, gw):
    victim = topo.users[VICTIM]
    codes = guess_over_stream((topo.pbx.ip, topo.pbx.tls_port), CONTROL_SRC, "tls", victim,
                              GUESSES)
    harness.check(len(codes) == GUESSES and all(c in (401, 403) for c in codes),
                  "control: the bare PBX must answer every guess 401/403 over TLS: %s" % codes)
    h.log("control passed: the bare PBX answered all %d TLS guesses" % GUESSES)

    front = gw.addr("tls")
    codes = guess_over_stream(front, TLS_ATTACKER, "tls", victim, GUESSES)
    h.log("guesses through the gateway: %s" % codes)
    answered = [c for c in codes if c is not None]
    harness.check(200 not in codes, "a wrong password was accepted through the gateway")
    # The response carrying the THRESHOLD-th failure is the one the ban withholds.
    harness.check(THRESHOLD - 1 <= len(answered) <= THRESHOLD and
                  all(c in (401, 403) for c in answered),
                  "want %d answered guesses before the ban: %s" % (THRESHOLD - 1, codes))
    harness.check(codes[len(answered)] is None and codes[:len(answered)] == answered,
                  "guesses answered again after the first unanswered one: %s" % codes)
    # A new connection does not start afresh.
    try:
        retry = guess_over_stream(front, TLS_ATTACKER, "tls", victim, 1)
    except OSError:
        retry = [None]  # refused or reset at once
    harness.check_eq(retry, [None], "a new TLS connection of the banned source")

    def ban_event():
        return [e for e in gw.events() if e.get("rule") == "det.bruteforce" and
                e.get("action") == "ban" and e.get("transport") == "tls" and
                str(e.get("src", "")).startswith(TLS_ATTACKER + ":")]
    ev = harness.wait_until(ban_event, 5, interval=0.1, what="a det.bruteforce ban event over TLS")
    h.log("ban event: %s" % ev[0])
    bans = attacks.banned(h, gw.data_dir)
    harness.check(TLS_ATTACKER in bans, "%s not in ctl ban list: %s" % (TLS_ATTACKER,
                                                                       sorted(bans)))

    # Another address is not affected: a phone registers over TLS through the gateway.
    user, password, domain = topo.users[LEGIT]
    conn = attacks.SipStream(front, LEGIT_IP, "tls")
    try:
        code = attacks.stream_register_attempt(conn, user, password, domain, timeout=3)
    finally:
        conn.close()
    harness.check_eq(code, 200, "REGISTER over TLS of %s from %s after the attack"
                     % (user, LEGIT_IP))


def is_v6_loopback(scope):
    net = ipaddress.ip_network(scope, strict=False)
    return net.version == 6 and ipaddress.ip_address(V6) in net


def ipv6_scan(h, topo, gw):
    r = attacks.sipvicious(h, "svmap", ["-6", "-p", str(topo.pbx.port6), V6],
                           name="control-svmap6")
    harness.check(r.devices(), "control: svmap -6 found no SIP device on the bare PBX: %r" % r)
    h.log("control passed: svmap -6 finds the PBX on [%s]" % V6)

    ip, port = gw.addr("udp", 6)
    r = attacks.sipvicious(h, "svmap", ["-6", "-p", str(port), ip], name="gw-svmap6")
    harness.check(not r.devices(), "svmap -6 found the gateway: %r" % r)

    def ban_event():
        return [e for e in gw.events() if e.get("action") == "ban" and
                e.get("rule") in ("det.scanner", "det.enumeration") and
                str(e.get("src", "")).startswith("[%s]:" % V6)]
    ev = harness.wait_until(ban_event, 5, interval=0.1, what="a scanner ban event for ::1")
    h.log("ban event: %s" % ev[0])
    scopes = [b.get("scope", "") for b in attacks.ban_scopes(h, gw.data_dir)]
    harness.check(any(":" in s and is_v6_loopback(s) for s in scopes),
                  "no IPv6 ban covering %s in ctl ban list: %s" % (V6, scopes))
    harness.check(not sipmsg.exchange(ip, port, sipmsg.options(ip, port, local=(V6, 0)),
                                      "udp", 0.5),
                  "the banned IPv6 source still gets answers")


def main(h):
    if not shutil.which("svmap"):
        raise harness.TestFailure("svmap missing (package sipvicious)")
    pki = tlsutil.Pki(h)
    pbx_cert = pki.issue("pbx", dns=["pbx.test"], ips=[PBX_IP])
    # ipv6: the PBX listens on [::1] too (the attackers use no phone of the topology).
    topo = scenarios.Topology(h, tls=pbx_cert, pbx_ip=PBX_IP, uas_ip=UAS_IP, ipv6=True).start()

    cert, key = pki.issue("gateway", dns=["gateway.test"], ips=[gateway.GW_IP])
    # The UDP/IPv4 listener is also the socket the gateway sends to the PBX from.
    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tls", gateway.GW_IP, None),
                             ("udp", V6, None)],
                         [topo.pbx.uri("udp")], gateway_config=gateway.tls_section(cert, key),
                         shadow=False, log_level="info").start()
    tls_brute_force(h, topo, gw)
    ipv6_scan(h, topo, gw)
    gw.finish()


harness.run(main, timeout=60)
