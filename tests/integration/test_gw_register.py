#!/usr/bin/env python3
"""SIPp phones REGISTER with digest auth through pbxguard (--transport udp|tcp; --ipv6:
phones on ::1).

All 300 subscribers register through the gateway; the PBX must store each contact with a
Path that points at the gateway (so calls to the phone come back through it), and must
have seen the REGISTERs from the gateway's address only. Wrong passwords still fail.
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
    scenarios.register(h, front, t, topo.users, name="register-all", local_ip=topo.phone_ip)
    for user in (topo.users[0], topo.users[-1]):
        c = topo.pbx.contacts(user[0])
        harness.check(c, "%s not in usrloc" % user[0])
        harness.check(gateway.GW_IP in scenarios.path_of(c),
                      "contact of %s has no Path through the gateway:\n%s" % (user[0], c))
    bad = [(u, "wrong-" + p, d) for (u, p, d) in topo.users[:20]]
    scenarios.register(h, front, t, bad, name="register-badpw", expect_ok=False,
                       local_ip=topo.phone_ip)
    scenarios.check_only_via(topo.pbx, gw.source_ips(), topo.phone_ip, "REGISTER")
    gw.finish()

harness.run(main, extra_args=[
    (["--upstream"], {"default": "udp", "choices": ["udp", "tcp"],
                      "help": "transport from the gateway to the PBX"})], timeout=120)
