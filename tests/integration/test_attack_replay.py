#!/usr/bin/env python3
"""The same attacks, captured and replayed into `pbxguard sensor -r`, give the gateway's bans.

The PBX is the probe's insecure Kamailio stand-in (lib/attacks.py), on its own loopback
address. One set of attacks, each from its own source address, bounded in count and time:
  - svmap (stock: "friendly-scanner"),
  - svwar REGISTER sweep (stock),
  - a REGISTER sweep of 16 users with an ordinary User-Agent that goes on whatever it is
    answered (hand-made: svwar itself gives up through the gateway, see below),
  - svcrack with a wordlist holding the right password, stock and with an ordinary
    User-Agent,
  - a burst of malformed requests,
  - svwar REGISTER sweep with an ordinary User-Agent, paced (the expected difference),
plus legitimate SIPp registrations (digest auth) from a separate address before and after
the attacks: the control that must never be flagged.

1. Straight at the bare PBX, captured with tcpdump on lo (BPF: the PBX's address and port).
   This is also the control of the attacks: the sweeps tell the real extensions and svcrack
   cracks the password there.
2. The same attacks through pbxguard gateway (detection enforcing, not in shadow mode,
   nftables off); its bans are read with `pbxguard ctl --json ban list`.
3. The capture fed to `pbxguard sensor -r FILE --pbx PBX:PORT --json` with the gateway's
   configuration file (same detection settings).

Asserted: the sensor bans the same set of (address, rule) as the gateway, every attacker is
in it, the legitimate address in neither. Sets, not counts: once the gateway bans an
attacker it drops the rest of the attack, and its enumeration shielding rewrites the PBX's
404s, so the attacker sends different things next and the messages after the first ban
differ from what the bare PBX provoked. The deciding rule sees the same traffic in both —
the attacker's first requests and the PBX's own answers to them (the gateway judges the
PBX's 404 before it rewrites it) — so the (address, rule) pairs are the same.

One justified difference, asserted as such: svwar probes a random extension first and
stops when it is answered like a real one. Through the gateway the shielded answer is a
challenge, so svwar gives up after its first requests having learned nothing, and the
gateway has nothing left to ban; on the bare PBX it enumerates the extensions, and the
sensor bans it for enumeration (det.enumeration). The disguised attacker is defeated in
both cases; only the gateway defeats it without a ban.
"""
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import attacks, capture, gateway, harness, sipp  # noqa: E402

PBX_IP = "127.86.0.1"
MARKER_IP = "127.86.0.99"  # tcpdump readiness keep-alives
ATTACK_NET = "127.87.0."
LEGIT_IP = "127.88.0.1"
DISGUISE_UA = "Yealink SIP-T46S 66.86.0.15"
EXTS = "1000-1015"
RIGHT_AT = 30  # the right password is word 31: the gateway must stop svcrack before
MALFORMED = 60  # half of them are refused by the parser: 30, over ban_after (20)
LEGIT_REGISTRATIONS = 10
SWEEP_USERS = ["%d" % u for u in range(1000, 1016)]
GIVES_UP = 7  # ATTACK_NET + 7: the disguised svwar without --force


def wordlist(h):
    words = ["pass%02d" % i for i in range(RIGHT_AT)] + [attacks.WEAK_PASSWORD]
    words += ["after%02d" % i for i in range(10)]
    return attacks.write_wordlist(h.path("words.txt"), words)


def legit(h, target, name):
    """SIPp registers 1001 and 1002 with digest auth from LEGIT_IP, slowly (a phone's pace)."""
    users = [(attacks.WEAK_USER, attacks.WEAK_PASSWORD, attacks.REALM),
             ("1002", "Xq7vR2pL9wT4zKm8", attacks.REALM)]
    r = sipp.Sipp(h, name, "register.xml", remote=target, local_ip=LEGIT_IP,
                  calls=LEGIT_REGISTRATIONS, rate=5, limit=2,
                  inf=sipp.csv_for(h, name, users), timeout=30).run()
    sipp.expect_all(r, LEGIT_REGISTRATIONS, "%s: legitimate registrations" % name)


def run_attacks(h, target, words, phase):
    """Every attack against target (ip, port). Returns {source: attack} and the tool results
    the control needs."""
    tgt = ["-p", str(target[1]), target[0]]
    sources = {}
    results = {}

    def sv(tool, args, idx, label, ua=None):
        src = ATTACK_NET + str(idx)
        sources[src] = label
        results[label] = attacks.sipvicious(h, tool, args + tgt, source=src, ua=ua,
                                            name="%s-%s" % (phase, label))

    legit(h, target, "%s-legit-before" % phase)
    sv("svmap", [], 1, "svmap")
    sv("svwar", ["-e", EXTS, "-m", "REGISTER"], 2, "svwar")
    # A REGISTER sweep that does not care what it is answered (svwar stops at the
    # gateway's first shielded answer): ordinary User-Agent, one user after the other.
    src = ATTACK_NET + "3"
    sources[src] = "register-sweep"
    results["register-sweep"] = {
        u: attacks.register_attempt(target, src, u, "wrong-%s" % u, attacks.REALM, timeout=0.5)
        for u in SWEEP_USERS}
    # Without --force: the one attack whose verdicts differ (see the docstring).
    sv("svwar", ["-e", EXTS, "-m", "REGISTER", "-t", "0.05"], GIVES_UP, "svwar-gives-up",
       ua=DISGUISE_UA)
    sv("svcrack", ["-u", attacks.WEAK_USER, "-d", words], 4, "svcrack")
    sv("svcrack", ["-u", attacks.WEAK_USER, "-d", words], 5, "svcrack-disguised",
       ua=DISGUISE_UA)
    src = ATTACK_NET + "6"
    sources[src] = "malformed"
    sent = attacks.send_burst(target, src, attacks.malformed_messages(MALFORMED, (src, 0),
                                                                       target), rate=200)
    harness.check_eq(sent, MALFORMED, "%s: malformed messages sent" % phase)
    legit(h, target, "%s-legit-after" % phase)
    return sources, results


def control(h, results):
    """The attacks work against the bare PBX: otherwise there is nothing to detect."""
    harness.check(results["svmap"].devices(), "control: svmap found no SIP device: %r"
                  % results["svmap"])
    codes = results["register-sweep"]
    harness.check_eq({u for u, c in codes.items() if c != 404}, attacks.ALL_EXTENSIONS,
                     "control: the REGISTER sweep tells the real extensions (%r)" % codes)
    for label in ("svwar", "svwar-gives-up"):
        harness.check(attacks.REAL_EXTENSIONS <= results[label].extensions(),
                      "control: %s on the bare PBX (%r)" % (label, results[label]))
    for label in ("svcrack", "svcrack-disguised"):
        harness.check_eq(results[label].cracked().get(attacks.WEAK_USER),
                         attacks.WEAK_PASSWORD,
                         "control: %s cracks 1001 on the bare PBX (%r)" % (label, results[label]))
    h.log("control passed: every attack succeeds against the unprotected PBX")


def main(h):
    for tool in ("svmap", "svwar", "svcrack"):
        if not shutil.which(tool):
            raise harness.TestFailure("%s missing (package sipvicious)" % tool)
    pbx = attacks.InsecurePbx(h, PBX_IP).start()
    words = wordlist(h)

    # 1. Straight at the bare PBX, captured.
    cap = capture.Capture(h, PBX_IP, pbx.port, MARKER_IP).start()
    sources, results = run_attacks(h, (PBX_IP, pbx.port), words, "direct")
    size = cap.stop()
    harness.check(size > 10000, "capture holds only %d bytes" % size)
    control(h, results)

    # 2. Through the gateway (nftables off: the Gateway helper's default).
    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None)], [pbx.uri("udp")], shadow=False,
                         log_level="info")
    gw.start()
    gw_sources, gw_results = run_attacks(h, gw.addr("udp"), words, "gateway")
    harness.check_eq(gw_sources, sources, "attack sources of both phases")
    for label in ("svcrack", "svcrack-disguised"):
        harness.check(not gw_results[label].cracked(),
                      "%s cracked a password through the gateway: %r" % (label, gw_results[label]))
    gw_bans = capture.gateway_bans(h, gw.data_dir)
    gw.finish()
    h.log("gateway bans: %s" % sorted(gw_bans))

    # 3. The capture, replayed into the sensor with the same configuration.
    run = capture.sensor(h, cap.path, (PBX_IP, pbx.port), config=gw.config_path)
    summary = run.summary()
    harness.check(summary is not None, "sensor printed no summary: %s" % run.stderr[-2000:])
    h.log("sensor: rc %d, %s messages, %s malformed, %s non-SIP, %s bans" % (
        run.rc, summary.get("messages"), summary.get("malformed"), summary.get("non_sip"),
        summary.get("bans")))
    harness.check_eq(run.rc, 1, "sensor exit status with attacks in the capture")
    harness.check(summary.get("messages", 0) > 100, "sensor saw only %r SIP messages"
                  % summary.get("messages"))
    sensor_bans = capture.sensor_bans(run)
    h.log("sensor bans: %s" % sorted(sensor_bans))

    gives_up = ATTACK_NET + str(GIVES_UP)
    # The expected difference: through the gateway the unforced svwar learns nothing and stops
    # after its first request, so nothing is left to ban; on the bare PBX it enumerated.
    harness.check(not (gw_results["svwar-gives-up"].extensions() & attacks.ALL_EXTENSIONS),
                  "unforced disguised svwar found extensions through the gateway: %r"
                  % gw_results["svwar-gives-up"])
    harness.check(not any(a == gives_up for a, _ in gw_bans),
                  "the gateway banned %s, which its shielding stops at the first request: %s"
                  % (gives_up, sorted(gw_bans)))
    harness.check((gives_up, "det.enumeration") in sensor_bans,
                  "sensor did not ban the unforced svwar %s for enumeration: %s"
                  % (gives_up, sorted(sensor_bans)))
    for src, label in sorted(sources.items()):
        if src == gives_up:
            continue
        harness.check(any(a == src for a, _ in gw_bans),
                      "gateway did not ban %s (%s): %s" % (src, label, sorted(gw_bans)))
        harness.check(any(a == src for a, _ in sensor_bans),
                      "sensor did not ban %s (%s) in the replay: %s"
                      % (src, label, sorted(sensor_bans)))
    for who, bans in (("gateway", gw_bans), ("sensor", sensor_bans)):
        for bad in (LEGIT_IP, MARKER_IP):
            harness.check(not any(a == bad for a, _ in bans),
                          "%s banned %s: %s" % (who, bad, sorted(bans)))
    same = {b for b in sensor_bans if b[0] != gives_up}
    harness.check_eq(same, gw_bans, "sensor bans (address, rule) vs the gateway's")
    h.log("replay gives the gateway's bans: %s" % sorted(gw_bans))

harness.run(main, timeout=280)
