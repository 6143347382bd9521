#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/corpus/ from the test data:
#   samples/sip/*.sip, tests/data/sip/**, tests/data/sip-torture/** (RFC 4475 / RFC 5118).
#   sip_msg     every message file as it is
#   sip_framer  stream inputs: [ncuts][cut bytes...][stream], streams made of 1-3 messages
#               with CRLF keep-alives between them (see fuzz_sip_framer.c for the format)
#   sip_uri     every URI found in a Request-URI or between < and >
#   sip_digest  every Authorization / Proxy-Authorization / *-Authenticate value
#   sip_sdp     every body that starts with v=0
#   pkt_decode  the sample messages in Ethernet/IPv4/UDP, IPv6/UDP, TCP and fragment frames
# Seeds are named by the SHA-1 of their content (like libFuzzer's own corpus files), so
# rerunning only adds what is new. fuzz/corpus/<name>/ files not produced here (found by
# fuzzing and kept as regressions) are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - <<'PY'
import glob, hashlib, os, re, struct

def sources():
    files = sorted(glob.glob("samples/sip/*.sip"))
    for pat in ("tests/data/sip/**/*", "tests/data/sip-torture/**/*"):
        files += sorted(f for f in glob.glob(pat, recursive=True)
                        if os.path.isfile(f) and not f.endswith((".md", ".csv", ".expect", ".expected", ".txt")))
    return [(f, open(f, "rb").read()) for f in files]

def put(corpus, data):
    d = os.path.join("fuzz/corpus", corpus)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    p = os.path.join(d, name)
    if not os.path.exists(p):
        with open(p, "wb") as fp:
            fp.write(data)

msgs = sources()
for _, m in msgs:
    put("sip_msg", m)
    first = m.split(b"\n", 1)[0]
    parts = first.split(b" ")
    if len(parts) >= 2 and not first.startswith(b"SIP/"):
        put("sip_uri", parts[1].strip())
    for u in re.findall(rb"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\r\n]{0,300})>", m):
        put("sip_uri", u)
    for v in re.findall(rb"(?im)^(?:proxy-)?(?:authorization|www-authenticate|proxy-authenticate)[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)", m):
        put("sip_digest", v.rstrip(b"\r\n"))
    sep = m.find(b"\r\n\r\n")
    if sep >= 0 and m[sep + 4:].startswith(b"v=0"):
        put("sip_sdp", m[sep + 4:])

# Framer streams: valid samples only (their Content-Length is exact).
good = [m for f, m in msgs if f.startswith("samples/") and "malformed" not in f]
def framer_input(stream, cuts):
    return bytes([len(cuts)]) + bytes(cuts) + stream
for i, m in enumerate(good):
    nxt = good[(i + 1) % len(good)]
    put("sip_framer", framer_input(m, []))
    put("sip_framer", framer_input(m + b"\r\n\r\n" + nxt, [1, 17, 200]))
    put("sip_framer", framer_input(b"\r\n" + m + nxt + good[(i + 2) % len(good)], [3, 3, 90, 255]))
put("sip_framer", framer_input(b"\r\n\r\n\r\n", [1, 1]))

# Capture frames: [link][len16][frame]...
def eth(et):
    return bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]) + struct.pack(">H", et)
def ip4(proto, l4, ident=1, frag=0):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0,
                    bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    return h + l4
def ip6(nh, data):
    return struct.pack(">IHBB", 0x60000000, len(data), nh, 64) + bytes(15) + b"\x01" + bytes(15) + b"\x02" + data
def udp(p):
    return struct.pack(">HHHH", 5060, 5060, 8 + len(p), 0) + p
def tcp(seq, flags, p):
    return struct.pack(">HHIIBBHHH", 40000, 5060, seq, 0, 0x50, flags, 65535, 0, 0) + p
def rec(frame):
    return struct.pack(">H", len(frame)) + frame
for m in good[:6]:
    put("pkt_decode", b"\x00" + rec(eth(0x0800) + ip4(17, udp(m))))
    put("pkt_decode", b"\x03" + rec(ip6(17, udp(m))))
    half = len(m) // 2
    put("pkt_decode", b"\x00" + rec(eth(0x0800) + ip4(6, tcp(1000, 0x02, b""))) +
        rec(eth(0x0800) + ip4(6, tcp(1001, 0x18, m[:half]))) +
        rec(eth(0x0800) + ip4(6, tcp(1001 + half, 0x18, m[half:]))))
    third = len(m) // 3
    put("pkt_decode", b"\x00" + rec(eth(0x0800) + ip4(6, tcp(1001 + 2 * third, 0x18, m[2 * third:]))) +
        rec(eth(0x0800) + ip4(6, tcp(1001 + third, 0x18, m[third:2 * third]))) +
        rec(eth(0x0800) + ip4(6, tcp(1001, 0x18, m[:third]))))
    u = udp(m)
    cut = (len(u) // 2) & ~7
    put("pkt_decode", b"\x03" + rec(ip4(17, u[cut:], 9, cut // 8)) + rec(ip4(17, u[:cut], 9, 0x2000)))
    f1 = struct.pack(">BBHI", 17, 0, 0 | 1, 77) + u[:cut]
    f2 = struct.pack(">BBHI", 17, 0, cut, 77) + u[cut:]
    put("pkt_decode", b"\x03" + rec(ip6(44, f1)) + rec(ip6(44, f2)))
print("corpora:", {d: len(os.listdir(os.path.join("fuzz/corpus", d))) for d in sorted(os.listdir("fuzz/corpus"))})
PY
