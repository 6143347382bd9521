#!/usr/bin/env python3
"""A TLS phone with a real TLS SIP stack (baresip) through pbxguard.

The gateway gets a TLS listener with a certificate made now by openssl (the phone verifies
it against the test CA); the PBX stays on UDP behind it (transport conversion). The phone
registers with digest auth, the stored contact carries the gateway's Path, the trunk's call
reaches the phone over its TLS connection, and the phone's own call reaches the UAS (its
authenticated INVITE is too large for UDP, so the gateway uses the upstream's TCP fallback).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import gateway, harness, scenarios, tlsutil  # noqa: E402


def main(h):
    pki = tlsutil.Pki(h)
    cert, key = pki.issue("gateway", dns=["gateway.test"], ips=[gateway.GW_IP])
    topo = scenarios.Topology(h).start()
    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tls", gateway.GW_IP, None)],
                         [topo.pbx.uri("udp")],
                         gateway_config=gateway.tls_section(cert, key),
                         tcp_fallback=True).start()
    scenarios.tls_phone_calls(h, topo, gw.addr("tls"), pki.ca_cert, topo.users[2],
                              check_path=gateway.GW_IP)
    gw.finish()

harness.run(main, timeout=90)
