#!/usr/bin/env python3
"""Proves the harness: every call scenario passes directly against Kamailio (no gateway).

Run once per transport (--transport udp|tcp), and with --ipv6 for phones on ::1:
phone -> PBX -> UAS with digest auth, PBX (trunk) -> registered phone, CANCEL of a ringing
call, and a re-INVITE.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import harness, scenarios  # noqa: E402


def main(h):
    t = h.args.transport
    topo = scenarios.Topology(h, ipv6=h.args.ipv6).start()
    front = (topo.pbx.ip6, topo.pbx.port6) if h.args.ipv6 else (topo.pbx.ip, topo.pbx.port)
    users = topo.users
    r, _ = scenarios.call_to_uas(h, topo, front, t, users[0])
    # Control for the gateway's fingerprint hiding: the PBX does reveal its version.
    harness.check("Server: kamailio (5." in r.messages(),
                  "control: the PBX's responses should carry its Server version")
    scenarios.call_to_phone(h, topo, front, t, users[1])
    scenarios.cancel(h, topo, front, t, users[2])
    scenarios.reinvite(h, topo, front, t, users[3])


harness.run(main, timeout=120)
