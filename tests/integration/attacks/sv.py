#!/usr/bin/env python3
"""Runs a SIPVicious 0.3.3 tool (Debian's sipvicious package) with two test-only options.

  sv.py TOOL [--sv-source IP] [--sv-ua TEXT] [TOOL OPTIONS...] TARGET

TOOL is svmap, svwar or svcrack. Debian's 0.3.3 ignores -b (the socket is bound to the
wildcard address, so on loopback every scan comes from 127.0.0.1); --sv-source binds the
tool's socket to IP instead, so a test can give each attacker its own source address.
--sv-ua replaces the tool's fixed "friendly-scanner" User-Agent, as a careful attacker does
to slip past signature matching. Everything else is the unmodified tool.

The tools' second defect (a wrong digest response when the challenge carries no qop) is not
patched here: the attack tests' PBX stand-in offers qop=auth, which the tool handles.
"""
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, "/usr/share/sipvicious")


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("svmap", "svwar", "svcrack"):
        sys.stderr.write(__doc__)
        return 2
    tool = sys.argv[1]
    args, source, ua = [], None, None
    it = iter(sys.argv[2:])
    for a in it:
        if a == "--sv-source":
            source = next(it)
        elif a == "--sv-ua":
            ua = next(it)
        else:
            args.append(a)

    if source:
        orig_bind = socket.socket.bind

        def bind(self, addr):
            if isinstance(addr, tuple) and addr[0] in ("", "0.0.0.0"):
                addr = (source,) + tuple(addr[1:])
            return orig_bind(self, addr)

        socket.socket.bind = bind

    import importlib
    mod = importlib.import_module("sipvicious." + tool)
    if ua:
        from sipvicious.libs import svhelper
        orig_make = svhelper.makeRequest

        def make_request(*a, **kw):
            kw["useragent"] = ua
            return orig_make(*a, **kw)

        mod.makeRequest = make_request
    sys.argv = [tool] + args
    return mod.main()


if __name__ == "__main__":
    sys.exit(main() or 0)
