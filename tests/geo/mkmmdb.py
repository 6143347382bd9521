#!/usr/bin/env python3
"""Test-only MaxMind DB writer (MaxMind DB File Format Specification 2.0).

Usage: mkmmdb.py OUT.mmdb CIDR=CC[:LAT:LON] ...
Writes an IPv6 tree (IPv4 networks live at ::a.b.c.d/96+n, as in GeoLite2), 24-bit records,
and for each network a map {country: {iso_code: CC}, location: {latitude, longitude}}.
"""
import ipaddress
import struct
import sys
import time


def ctrl(type_, size):
    out = bytearray()
    if size < 29:
        sb, extra = size, b""
    elif size < 285:
        sb, extra = 29, bytes([size - 29])
    elif size < 65821:
        sb, extra = 30, struct.pack(">H", size - 285)
    else:
        sb, extra = 31, struct.pack(">I", size - 65821)[1:]
    if type_ <= 7:
        out.append((type_ << 5) | sb)
    else:
        out.append(sb)
        out.append(type_ - 7)
    return bytes(out) + extra


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, float):
        return ctrl(3, 8) + struct.pack(">d", v)
    if isinstance(v, bool):
        raise TypeError("bool unused")
    if isinstance(v, tuple):  # (kind, int)
        kind, n = v
        width = {"u16": 5, "u32": 6, "u64": 9}[kind]
        b = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
        return ctrl(width, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + enc(x)
        return out
    if isinstance(v, list):
        out = ctrl(11, len(v))
        for x in v:
            out += enc(x)
        return out
    raise TypeError(type(v))


def main():
    out = sys.argv[1]
    nodes = [[None, None]]  # record: None | ("n", idx) | ("d", off)
    data = bytearray()
    for arg in sys.argv[2:]:
        cidr, val = arg.split("=")
        parts = val.split(":")
        rec = {"country": {"iso_code": parts[0]}}
        if len(parts) == 3:
            rec["location"] = {"latitude": float(parts[1]), "longitude": float(parts[2])}
        off = len(data)
        data += enc(rec)
        net = ipaddress.ip_network(cidr)
        if net.version == 4:
            bits = int(net.network_address) 
            plen = 96 + net.prefixlen
        else:
            bits = int(net.network_address)
            plen = net.prefixlen
        node = 0
        for i in range(plen):
            bit = (bits >> (127 - i)) & 1 if net.version == 6 else (
                0 if i < 96 else (bits >> (31 - (i - 96))) & 1)
            if i == plen - 1:
                nodes[node][bit] = ("d", off)
            else:
                r = nodes[node][bit]
                if r is None or r[0] != "n":
                    nodes.append([None, None])
                    nodes[node][bit] = ("n", len(nodes) - 1)
                node = nodes[node][bit][1]
    n = len(nodes)
    tree = bytearray()
    for left, right in nodes:
        for r in (left, right):
            if r is None:
                v = n
            elif r[0] == "n":
                v = r[1]
            else:
                v = n + 16 + r[1]
            tree += v.to_bytes(3, "big")
    meta = {
        "binary_format_major_version": ("u16", 2),
        "binary_format_minor_version": ("u16", 0),
        "build_epoch": ("u64", int(time.time())),
        "database_type": "pbxguard-test",
        "description": {"en": "pbxguard test database"},
        "ip_version": ("u16", 6),
        "languages": ["en"],
        "node_count": ("u32", n),
        "record_size": ("u16", 24),
    }
    with open(out, "wb") as f:
        f.write(tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + enc(meta))


if __name__ == "__main__":
    main()
