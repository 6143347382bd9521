#!/usr/bin/env python3
"""Malformed SIP messages must not reach the PBX through pbxguard (--transport udp|tcp).

Control first: each malformed message sent straight to Kamailio is received by it (its
msg-received event route logs every message before parsing). Then the same messages are
sent to the gateway (enforcing, not in shadow mode), followed by well-formed OPTIONS
sentinels; once they have reached the PBX, none of the malformed messages may have.
Structural cases by default; --control-bytes sends header values with NUL/control bytes.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import gateway, harness, scenarios, sipmsg  # noqa: E402


# Control bytes inside header values: forbidden by the RFC 3261 grammar, and the classic
# way to truncate a header in a C consumer. Checked only with --control-bytes.
CONTROL_BYTE_CASES = ("nul-in-header", "ctl-in-header")


def malformed(tag, via_transport, src, control_bytes):
    """[(name, marker, bytes)] of the malformed requests; each carries a unique marker."""
    via = "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n" % (
        via_transport.upper(), sipmsg.hostport(*src), os.urandom(6).hex())
    common = ("From: <sip:1000@pbx.test>;tag=f%s\r\nTo: <sip:5000@pbx.test>\r\n"
              "Call-ID: %%s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n") % os.urandom(4).hex()
    cases = {
        "no-colon-header": "INVITE sip:5000@pbx.test SIP/2.0\r\n" + via + common +
                           "This line is not a header\r\nContent-Length: 0\r\n\r\n",
        "bad-version": "INVITE sip:5000@pbx.test SIP/7.0\r\n" + via + common +
                       "Content-Length: 0\r\n\r\n",
        "bad-content-length": "INVITE sip:5000@pbx.test SIP/2.0\r\n" + via + common +
                              "Content-Length: abc\r\n\r\n",
        "no-via": "INVITE sip:5000@pbx.test SIP/2.0\r\n" + common + "Content-Length: 0\r\n\r\n",
        "nul-in-header": "INVITE sip:5000@pbx.test SIP/2.0\r\n" + via + common +
                         "Subject: a\x00b\r\nContent-Length: 0\r\n\r\n",
        "ctl-in-header": "INVITE sip:5000@pbx.test SIP/2.0\r\n" + via + common +
                         "Subject: a\x01\x1bb\r\nContent-Length: 0\r\n\r\n",
        "bad-request-uri": "INVITE sip:5000@[pbx.test SIP/2.0\r\n" + via + common +
                           "Content-Length: 0\r\n\r\n",
    }
    out = []
    for name, text in cases.items():
        if (name in CONTROL_BYTE_CASES) != control_bytes:
            continue
        marker = "pbxit-bad-%s-%s-%s" % (name, tag, os.urandom(4).hex())
        out.append((name, marker, (text % marker).encode("latin-1")))
    return out


def main(h):
    t = h.args.transport
    topo = scenarios.Topology(h).start()
    pbx = topo.pbx
    src_ip = topo.phone_ip

    # Control: Kamailio receives every one of them when they are sent directly.
    for name, marker, data in malformed("direct", t, (src_ip, 5060), h.args.control_bytes):
        sipmsg.send_only(pbx.ip, pbx.port, data, t, src=(src_ip, 0))
        harness.wait_until(lambda: pbx.received_containing(marker.encode()), 5,
                           what="control: %s sent directly to reach the PBX" % name)
    h.log("control passed: every malformed message reaches an unprotected PBX")

    # Enforcing (not shadow): dropping what is malformed is the gateway's job here.
    gw = gateway.Gateway(h, [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)],
                         [pbx.uri("udp")], shadow=False).start()
    gip, gport = gw.addr(t)
    sent = malformed("gw", t, (src_ip, 5060), h.args.control_bytes)
    for name, marker, data in sent:
        sipmsg.send_only(gip, gport, data, t, src=(src_ip, 0))
    # Sentinels: well-formed requests sent after the malformed ones; when the second has
    # reached the PBX, the gateway has handled everything sent before it. They come from
    # another address, which the malformed ones cannot have got banned.
    sentinel_ip = "127.0.0.5"
    for i in range(2):
        sentinel = "pbxit-sentinel-%d-%s" % (i, os.urandom(4).hex())
        opt = sipmsg.options(gip, gport, t, call_id=sentinel, local=(sentinel_ip, 5060))
        sipmsg.exchange(gip, gport, opt, t, timeout=1.0, src=(sentinel_ip, 0))
        harness.wait_until(lambda: pbx.received_containing(sentinel.encode()), 5,
                           what="sentinel OPTIONS to pass through the gateway")
    leaked = [name for name, marker, _ in sent if pbx.received_containing(marker.encode())]
    harness.check(not leaked, "malformed messages reached the PBX through the gateway: %s"
                  % ", ".join(leaked))
    gw.finish()

harness.run(main, timeout=90, extra_args=[
    (["--control-bytes"], {"action": "store_true",
                           "help": "send the control-byte cases instead of the structural ones"})])
