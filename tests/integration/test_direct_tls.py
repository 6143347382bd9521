#!/usr/bin/env python3
"""Proves the TLS part of the harness directly against Kamailio (no gateway).

Kamailio gets a TLS listener with a certificate made now by openssl; baresip (a real TLS
SIP stack, verifying the server against the test CA) registers over TLS with digest auth,
is called by the trunk through the PBX, and calls the UAS.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import harness, scenarios, tlsutil  # noqa: E402


def main(h):
    pki = tlsutil.Pki(h)
    cert = pki.issue("pbx", dns=["pbx.test"], ips=["127.0.0.1"])
    topo = scenarios.Topology(h, tls=cert).start()
    scenarios.tls_phone_calls(h, topo, (topo.pbx.ip, topo.pbx.tls_port), pki.ca_cert,
                              topo.users[2])


harness.run(main, timeout=90)
