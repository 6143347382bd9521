#!/usr/bin/env python3
"""SIPVicious (svmap, svwar, svcrack) against the gateway in front of an enumerable PBX.

The PBX is the probe's insecure Kamailio stand-in (404 for unknown users, OPTIONS 200/404,
extension 1001 with password 1234), challenging with qop=auth (lib/attacks.py says why).

Control first, straight at the PBX: svmap finds it; svwar finds exactly the real extensions
1001 and 1002 in REGISTER, OPTIONS and INVITE mode, also with a spoofed User-Agent at a slow
rate; svcrack finds 1001's password, placed deep in its wordlist.

Then the same tools through pbxguard gateway, each from its own loopback source address:
svmap and stock svwar are stopped by their signature; the disguised slow svwar must report
no real extension (enumeration shielding answers unknown users like real ones); svcrack
must not crack the password (brute-force ban long before the right word). A legitimate
phone still registers through the gateway afterwards. The attackers are listed by
`pbxguard ctl ban list`, and still after the gateway is killed with SIGKILL and restarted;
`ctl ban add/del` and `ctl reload` act on the running gateway.
"""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import attacks, gateway, harness, sipmsg  # noqa: E402

PBX_IP = "127.77.0.1"
CONTROL_SRC = "127.77.0.9"
ATTACK_NET = "127.78.0."
LEGIT_IP = "127.80.0.1"
DISGUISE_UA = "Yealink SIP-T46S 66.86.0.15"
EXTS = "1000-1015"
# The right password sits at position 31: the gateway must stop svcrack well before.
RIGHT_AT = 30


def wordlist(h):
    words = ["pass%02d" % i for i in range(RIGHT_AT)] + [attacks.WEAK_PASSWORD]
    words += ["after%02d" % i for i in range(10)]
    return attacks.write_wordlist(h.path("words.txt"), words)


def control(h, pbx, words):
    tgt = ["-p", str(pbx.port), pbx.ip]
    r = attacks.sipvicious(h, "svmap", tgt, source=CONTROL_SRC,
                           name="control-svmap")
    harness.check(r.devices(), "control: svmap found no SIP device on the bare PBX: %r" % r)
    for method in ("REGISTER", "OPTIONS", "INVITE"):
        r = attacks.sipvicious(h, "svwar", ["-e", EXTS, "-m", method] + tgt,
                               source=CONTROL_SRC, name="control-svwar")
        want = attacks.REAL_EXTENSIONS | ({attacks.OPEN_EXTENSION} if method == "REGISTER"
                                          else set())
        harness.check_eq(r.extensions(), want,
                         "control: svwar -m %s extensions on the bare PBX (%r)" % (method, r))
    r = attacks.sipvicious(h, "svwar", ["-e", EXTS, "-m", "REGISTER", "-t", "0.2"] + tgt,
                           source=CONTROL_SRC, ua=DISGUISE_UA, name="control-svwar")
    harness.check(attacks.REAL_EXTENSIONS <= r.extensions(),
                  "control: disguised slow svwar on the bare PBX (%r)" % r)
    r = attacks.sipvicious(h, "svcrack", ["-u", attacks.WEAK_USER, "-d", words] + tgt,
                           source=CONTROL_SRC, name="control-svcrack")
    harness.check_eq(r.cracked().get(attacks.WEAK_USER), attacks.WEAK_PASSWORD,
                     "control: svcrack cracks 1001 on the bare PBX (%r)" % r)
    h.log("control passed: every tool succeeds against the unprotected PBX")


def through_gateway(h, gw, words):
    ip, port = gw.addr("udp")
    tgt = ["-p", str(port), ip]
    attackers = []

    src = ATTACK_NET + "1"
    attackers.append(src)
    r = attacks.sipvicious(h, "svmap", tgt, source=src, name="gw-svmap")
    harness.check(not r.devices(), "svmap found the gateway (%r)" % r)

    for i, method in enumerate(("REGISTER", "OPTIONS", "INVITE")):
        src = ATTACK_NET + str(10 + i)
        attackers.append(src)
        r = attacks.sipvicious(h, "svwar", ["-e", EXTS, "-m", method] + tgt, source=src,
                               name="gw-svwar")
        harness.check(not (r.extensions() & attacks.ALL_EXTENSIONS),
                      "stock svwar -m %s found real extensions through the gateway: %r"
                      % (method, r))

    # A careful attacker: ordinary User-Agent, one request per 0.2 s.
    for i, method in enumerate(("REGISTER", "OPTIONS", "INVITE")):
        src = ATTACK_NET + str(20 + i)
        r = attacks.sipvicious(h, "svwar", ["-e", EXTS, "-m", method, "-t", "0.2"] + tgt,
                               source=src, ua=DISGUISE_UA, name="gw-svwar-disguised")
        found = r.extensions()
        harness.check(not (found & attacks.ALL_EXTENSIONS),
                      "disguised svwar -m %s found real extensions through the gateway: %s (%r)"
                      % (method, sorted(found), r))

    src = ATTACK_NET + "30"
    attackers.append(src)
    r = attacks.sipvicious(h, "svcrack", ["-u", attacks.WEAK_USER, "-d", words] + tgt,
                           source=src, ua=DISGUISE_UA, name="gw-svcrack")
    harness.check(not r.cracked(), "svcrack cracked a password through the gateway: %r" % r)
    return attackers


def main(h):
    for tool in ("svmap", "svwar", "svcrack"):
        if not shutil.which(tool):
            raise harness.TestFailure("%s missing (package sipvicious)" % tool)
    pbx = attacks.InsecurePbx(h, PBX_IP).start()
    words = wordlist(h)
    control(h, pbx, words)

    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)],
                         [pbx.uri("udp")], shadow=False)
    # Kernel enforcement on, in a table of this test's own (parallel tests do not collide);
    # the only addresses it can ban are this test's attackers (127.78.0.0/24).
    table = "pbxit%d" % os.getpid()
    with open(gw.config_path) as f:
        text = f.read()
    off = "ban:\n  nftables:\n    enabled: false\n"
    harness.check(off in text, "gateway configuration without its nftables switch")
    with open(gw.config_path, "w") as f:
        f.write(text.replace(off, "ban:\n  nftables:\n    table: %s\n" % table))
    if shutil.which("nft"):
        # A gateway killed by the test (or a failure) leaves its table behind otherwise.
        h.on_cleanup(lambda: subprocess.run(["nft", "delete", "table", "inet", table],
                                            capture_output=True, timeout=10))
    gw.start()
    attackers = through_gateway(h, gw, words)

    ip, port = gw.addr("udp")
    code = attacks.register_attempt((ip, port), LEGIT_IP, "1002", "Xq7vR2pL9wT4zKm8",
                                    attacks.REALM, timeout=2)
    harness.check_eq(code, 200, "legitimate REGISTER of 1002 through the gateway after attacks")

    bans = attacks.banned(h, gw.data_dir)
    for a in attackers:
        harness.check(a in bans, "attacker %s not banned; bans: %s" % (a, sorted(bans)))
    harness.check(LEGIT_IP not in bans, "the legitimate phone was banned")
    harness.check(not sipmsg.exchange(ip, port, sipmsg.options(ip, port), "udp", 0.5,
                                      (attackers[-1], 0)),
                  "a banned source still gets answers")

    # Bans survive a crash: SIGKILL, restart, same data directory.
    gw.proc.kill()
    gw.proc.wait(10)
    gw.start()
    after = attacks.banned(h, gw.data_dir)
    for a in attackers:
        harness.check(a in after, "ban of %s lost across kill -9 + restart: %s" % (a, sorted(after)))
    rc, out = attacks.ctl(h, gw.data_dir, "status")
    harness.check(rc == 0, "ctl status against the running gateway: %s" % out)

    # Operator actions through the control socket act on the running gateway at once.
    manual = ATTACK_NET + "99"
    harness.check(sipmsg.exchange(ip, port, sipmsg.options(ip, port), "udp", 1, (manual, 0)),
                  "control: %s gets answers before its manual ban" % manual)
    rc, out = attacks.ctl(h, gw.data_dir, "ban", "add", manual, "10m", "manual test ban")
    harness.check(rc == 0, "ctl ban add: %s" % out)
    harness.check(manual in attacks.banned(h, gw.data_dir), "manual ban not listed")
    harness.check(not sipmsg.exchange(ip, port, sipmsg.options(ip, port), "udp", 0.5,
                                      (manual, 0)),
                  "a manually banned source still gets answers")
    rc, out = attacks.ctl(h, gw.data_dir, "ban", "del", manual)
    harness.check(rc == 0, "ctl ban del: %s" % out)
    harness.check(sipmsg.exchange(ip, port, sipmsg.options(ip, port), "udp", 1, (manual, 0)),
                  "%s still refused after ctl ban del" % manual)
    rc, out = attacks.ctl(h, gw.data_dir, "reload")
    harness.check(rc == 0, "ctl reload: %s" % out)
    harness.wait_until(lambda: "configuration reloaded" in gw.log(), 10, interval=0.1,
                       what="the gateway to reload after ctl reload")
    if "nftables unavailable" in gw.log():
        h.log("kernel refused nftables here: bans enforced in-process only (not checked)")
    elif shutil.which("nft"):
        r = subprocess.run(["nft", "list", "set", "inet", table, "ban4"], capture_output=True,
                           text=True, timeout=10)
        harness.check(r.returncode == 0 and attackers[-1] in r.stdout,
                      "nftables set ban4 of table %s lacks %s: %s%s"
                      % (table, attackers[-1], r.stdout, r.stderr))
    gw.finish()


harness.run(main, timeout=280)
