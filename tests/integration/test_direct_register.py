#!/usr/bin/env python3
"""Proves the harness: every subscriber REGISTERs with digest auth directly at Kamailio.

All 300 subscribers register over the chosen transport and appear in usrloc; the same
users with wrong passwords are all refused (the control that auth is really checked).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import harness, scenarios  # noqa: E402


def main(h):
    t = h.args.transport
    topo = scenarios.Topology(h).start()
    front = (topo.pbx.ip, topo.pbx.port)
    scenarios.register(h, front, t, topo.users, name="register-all", local_ip=topo.phone_ip)
    for user in (topo.users[0], topo.users[-1]):
        harness.check(topo.pbx.contacts(user[0]), "%s not in usrloc" % user[0])
    bad = [(u, "wrong-" + p, d) for (u, p, d) in topo.users[:20]]
    scenarios.register(h, front, t, bad, name="register-badpw", expect_ok=False,
                       local_ip=topo.phone_ip)


harness.run(main, timeout=120)
