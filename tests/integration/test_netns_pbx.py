#!/usr/bin/env python3
"""Proves the namespace helpers: the PBX on a private network, phones from many addresses.

Kamailio runs inside a network namespace created by the test (reachable only over its veth
pair); 20 phones, each from its own source address on the host side, register with digest
auth, and the PBX records each binding with that phone's own address.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import harness, kamailio, netns, scenarios  # noqa: E402


def main(h):
    ns = netns.Netns(h, "pbx")
    users = kamailio.load_users()
    pbx = kamailio.Kamailio(h, ip=ns.ns_ip, uas=(ns.host_ip, 5999), users=users,
                            netns=ns)
    pbx.start()
    sources = ns.add_host_addresses(20)
    for i, ip in enumerate(sources):
        scenarios.register(h, (pbx.ip, pbx.port), "udp", [users[i]], name="reg-%d" % i,
                           local_ip=ip)
    for i, ip in enumerate(sources):
        c = pbx.contacts(users[i][0])
        harness.check(("Received: sip:%s:" % ip) in c or ("@%s:" % ip) in c,
                      "binding of %s does not show source %s:\n%s" % (users[i][0], ip, c))


harness.run(main, timeout=90)
