#!/usr/bin/env python3
"""Floods and distributed brute force against the gateway while legitimate traffic flows.

Topology: the harness's Kamailio registrar (300 digest subscribers) as the PBX on its own
loopback address, pbxguard gateway in front (detection enforced, not in shadow mode).

Legitimate traffic during the attacks, all through the gateway:
  - a busy site behind one NAT address: SIPp registering 50 users from NAT_IP again and
    again, and a second SIPp sending OPTIONS keep-alives from the same address;
  - phones on PHONE_IP registering and calling the UAS (digest auth);
together they must keep at least 99.9 % success, and neither address may ever be banned.

Attacks (each from its own loopback address, bounded in count and time):
  - SIPp OPTIONS flood, sipsak flood (sipsak has no source option: it sends from
    127.0.0.1, which is why the PBX does not live there), a malformed-message flood;
  - a distributed brute force against one account from 40 addresses, 3 guesses each (each
    source stays below the per-source threshold), the right password among them.
Control: the same brute force straight at the PBX cracks the account; through the gateway
the account is protected before the right guess and nothing gets a 200. The flooders are
banned (`pbxguard ctl ban list`). Identity headers (P-Asserted-Identity, Remote-Party-ID)
from outside reach the bare PBX but not the PBX behind the gateway.
"""
import os
import shutil
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import attacks, gateway, harness, kamailio, scenarios, sipp  # noqa: E402

PBX_IP = "127.83.0.1"
IDENTITY_SRC = "127.84.0.1"
NAT_IP = "127.82.0.1"
FLOOD_SIPP = "127.81.0.1"
SIPSAK_SRC = "127.0.0.1"
MALFORMED_SRC = "127.81.0.3"
BF_NET = "127.81.1."
BF_SOURCES = 40
BF_GUESSES = 3
BF_RIGHT_AT = 70  # the right password is guess number 71 of 120
VICTIM = 250      # index of the attacked account in users.csv (not used by the phones)


def brute_force(front, victim, right_at):
    """40 sources x 3 guesses, sequential; returns the list of final status codes."""
    user, password, domain = victim
    codes = []
    n = 0
    for s in range(BF_SOURCES):
        src = BF_NET + str(s + 1)
        for g in range(BF_GUESSES):
            guess = password if n == right_at else "guess-%03d" % n
            codes.append(attacks.register_attempt(front, src, user, guess, domain, timeout=1))
            n += 1
    return codes


def identity_options(target, src_ip, marker):
    """An OPTIONS from outside claiming an identity (P-Asserted-Identity, Remote-Party-ID)."""
    return ("OPTIONS sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:1000@pbx.test>;tag=%s\r\nTo: <sip:pbx.test>\r\n"
            "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
            "P-Asserted-Identity: <sip:+441234567890@pbx.test>\r\n"
            "Remote-Party-ID: <sip:5000@pbx.test>;party=calling;privacy=off\r\n"
            "User-Agent: Yealink SIP-T46S 66.86.0.15\r\nContent-Length: 0\r\n\r\n"
            % (target[0], src_ip, marker, marker, marker)).encode()


def check_identity_stripped(h, pbx, front, direct):
    """Control: the PBX receives the identity headers when sent to it directly; through the
    gateway the same request arrives without them."""
    for where, target, want in (("direct", direct, True), ("gateway", front, False)):
        marker = "pai-%s-%d" % (where, os.getpid())
        attacks.send_burst(target, IDENTITY_SRC, [identity_options(target, IDENTITY_SRC, marker)])
        got = harness.wait_until(lambda: pbx.received_containing(marker.encode()), 10,
                                 interval=0.1, what="PBX to receive the %s request" % where)
        msg = got[0]
        has = b"P-Asserted-Identity" in msg or b"Remote-Party-ID" in msg
        harness.check(has == want, "%s: identity headers %s at the PBX:\n%r"
                      % (where, "missing" if want else "forwarded", msg[:600]))


def main(h):
    if not shutil.which("sipsak"):
        raise harness.TestFailure("sipsak missing (package sipsak)")
    topo = scenarios.Topology(h, pbx_ip=PBX_IP).start()
    users = topo.users
    victim = users[VICTIM]

    # Control: the distributed brute force cracks the account on the bare PBX.
    codes = brute_force((PBX_IP, topo.pbx.port), victim, BF_RIGHT_AT)
    harness.check(200 in codes, "control: brute force did not crack the bare PBX: %s" % codes)
    h.log("control passed: distributed brute force cracks %s on the bare PBX" % victim[0])

    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)],
                         [topo.pbx.uri("udp")], shadow=False, log_level="info")
    gw.start()
    front = gw.addr("udp")
    check_identity_stripped(h, topo.pbx, front, (PBX_IP, topo.pbx.port))

    # Legitimate load: the NAT site (50 users, re-registering, keep-alives) and phones calling.
    site = users[:50]
    rounds = 6
    nat_reg = sipp.Sipp(h, "nat-register", "register.xml", remote=front, local_ip=NAT_IP,
                        calls=len(site) * rounds, rate=10, limit=20,
                        inf=sipp.csv_for(h, "nat-register", site), timeout=60).start()
    nat_ka = sipp.Sipp(h, "nat-keepalive", "options.xml", remote=front, local_ip=NAT_IP,
                       calls=300, rate=10, limit=20, timeout=60).start()
    n_calls = 40
    uas = topo.start_uas("uas.xml", calls=n_calls, name="uas", timeout=90)
    callers = users[60:100]
    phones_reg = sipp.Sipp(h, "phones-register", "register.xml", remote=front,
                           local_ip=topo.phone_ip, calls=len(callers), rate=20,
                           inf=sipp.csv_for(h, "phones-register", callers), timeout=60).run()
    calls = sipp.Sipp(h, "calls", "call_auth.xml", remote=front, local_ip=topo.phone_ip,
                      calls=n_calls, rate=2, limit=10, service="5000",
                      inf=sipp.csv_for(h, "calls", callers), timeout=90).start()

    # Attacks, while all of that runs.
    flood = sipp.Sipp(h, "flood-sipp", "options.xml", remote=front, local_ip=FLOOD_SIPP,
                      calls=12000, rate=3000, limit=12000, timeout=8).start()
    sipsak = h.spawn("flood-sipsak", ["sipsak", "-F", "-e", "5000", "-s",
                                      "sip:flood@%s:%d" % front])
    malformed = attacks.malformed_messages(2000, (MALFORMED_SRC, 0), front)
    sent = attacks.send_burst(front, MALFORMED_SRC, malformed, rate=1000, max_seconds=5)
    h.log("malformed flood: %d messages sent" % sent)
    bf_codes = []
    bf = threading.Thread(target=lambda: bf_codes.extend(brute_force(front, victim, BF_RIGHT_AT)))
    bf.start()
    flood.wait()
    try:
        sipsak.wait(30)
    except subprocess.TimeoutExpired:
        sipsak.stop()
    bf.join(120)
    harness.check(not bf.is_alive(), "brute force did not finish in time")

    results = [("NAT site REGISTER", nat_reg.wait(), len(site) * rounds),
               ("NAT site keep-alive", nat_ka.wait(), 300),
               ("phones REGISTER", phones_reg, len(callers)),
               ("phone calls", calls.wait(), n_calls)]
    uas.wait()
    total = sum(want for _, _, want in results)
    ok = sum(min(r.successful, want) for _, r, want in results)
    for what, r, want in results:
        h.log("%s: %d of %d" % (what, r.successful, want))
    harness.check(ok >= 0.999 * total, "legitimate success %d of %d is below 99.9 %%: %s"
                  % (ok, total, [(w, r) for w, r, _ in results]))

    harness.check(200 not in bf_codes,
                  "distributed brute force cracked the account through the gateway: %s" % bf_codes)
    protected = [e for e in gw.events() if e.get("rule") == "det.bruteforce_account"]
    harness.check(protected, "no account-protection event for the distributed brute force")

    bans = attacks.banned(h, gw.data_dir)
    for ip in (FLOOD_SIPP, SIPSAK_SRC, MALFORMED_SRC):
        harness.check(ip in bans, "flooder %s not banned: %s" % (ip, sorted(bans)))
    for ip in (NAT_IP, topo.phone_ip):
        harness.check(ip not in bans, "legitimate %s banned: %s" % (ip, sorted(bans)))
        banned_ev = [e for e in gw.events() if e.get("action") == "ban" and
                     str(e.get("src", "")).startswith(ip + ":")]
        harness.check(not banned_ev, "ban events for legitimate %s: %s" % (ip, banned_ev[:3]))
    gw.finish()


harness.run(main, timeout=280)
