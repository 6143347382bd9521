#!/usr/bin/env python3
"""Complete calls through pbxguard in both directions (--transport udp|tcp; --ipv6:
phones on ::1).

Phone -> gateway -> PBX -> UAS with digest auth; trunk -> PBX -> (Path) gateway ->
registered phone, answered by that phone; CANCEL of a ringing call; a re-INVITE routed by
the Record-Route set. The PBX must see every phone request from the gateway only, and its
version-revealing Server header must not reach the phone.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import gateway, harness, scenarios  # noqa: E402


def main(h):
    t = h.args.transport
    topo = scenarios.Topology(h, ipv6=h.args.ipv6).start()
    listen = [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)]
    if h.args.ipv6:
        # Phones reach the gateway on ::1; the PBX stays on IPv4 (family conversion).
        listen += [("udp", "::1", None), ("tcp", "::1", None)]
    gw = gateway.Gateway(h, listen, [topo.pbx.uri(h.args.upstream)]).start()
    front = gw.addr(t, 6 if h.args.ipv6 else 4)
    users = topo.users
    r, _ = scenarios.call_to_uas(h, topo, front, t, users[0])
    # Minimal exposure: the PBX's version (Server: kamailio (5.x ...) in its 100 and 407,
    # see the control in test_direct_calls.py) must not reach the phone.
    harness.check("kamailio (5." not in r.messages(),
                  "the PBX's Server version reached the phone through the gateway")
    scenarios.call_to_phone(h, topo, front, t, users[1], check_path=gateway.GW_IP)
    scenarios.cancel(h, topo, front, t, users[2])
    scenarios.reinvite(h, topo, front, t, users[3])
    scenarios.check_only_via(topo.pbx, gw.source_ips(), topo.phone_ip, "calls")
    gw.finish()

harness.run(main, extra_args=[
    (["--upstream"], {"default": "udp", "choices": ["udp", "tcp"],
                      "help": "transport from the gateway to the PBX"})], timeout=150)
