#!/usr/bin/env python3
"""An upstream going down and the second one taking over.

Two Kamailio registrars share one subscriber table. Phones register through pbxguard
(configured with both upstreams); the PBX that served them is then killed. Within a
bounded time, registrations and calls through the gateway must succeed again, served by the
other PBX.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import gateway, harness, kamailio, scenarios  # noqa: E402


def registered_at(pbx, users):
    return [u for u, _, _ in users if pbx.contacts(u)]


def main(h):
    t = h.args.transport
    topo = scenarios.Topology(h, name="pbx-a").start()
    a = topo.pbx
    b = kamailio.Kamailio(h, name="pbx-b", ip=a.ip, uas=a.uas, users=topo.users,
                          dbdir=a.dbdir).start()
    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)],
                         [a.uri("udp"), b.uri("udp")],
                         gateway_config=gateway.health_section()).start()
    front = gw.addr(t)
    users = topo.users

    scenarios.register(h, front, t, users[:10], name="register-before")
    at_a, at_b = registered_at(a, users[:10]), registered_at(b, users[:10])
    h.log("before: %d at pbx-a, %d at pbx-b" % (len(at_a), len(at_b)))
    harness.check(at_a or at_b, "no PBX stored the registrations")
    served, other = (a, b) if len(at_a) >= len(at_b) else (b, a)
    h.log("stopping %s" % served.name)
    served.stop()

    # Bounded: the gateway must notice (health check or transaction timeout) and fail
    # over; each attempt is one REGISTER with a short SIPp timeout.
    deadline = time.monotonic() + 30
    attempt = 0
    while True:
        attempt += 1
        r = scenarios.register(h, front, t, [users[10]], name="register-retry-%d" % attempt,
                               expect_ok=None)
        if r.successful == 1:
            break
        harness.check(time.monotonic() < deadline and attempt < 15,
                      "no failover to %s within 30 s (%d attempts)" % (other.name, attempt))
    h.log("failover after %d attempt(s)" % attempt)

    scenarios.register(h, front, t, users[20:40], name="register-after")
    moved = registered_at(other, users[20:40])
    harness.check(len(moved) == 20, "only %d of 20 registrations reached %s"
                  % (len(moved), other.name))
    scenarios.call_to_uas(h, topo, front, t, users[20], name="call-after")
    gw.finish()

harness.run(main, timeout=150)
