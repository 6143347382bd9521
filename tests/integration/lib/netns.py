"""Network namespaces for tests that need a private network or many source addresses.

A Netns is a namespace joined to the host by a veth pair on its own /24 (10.A.B.0/24,
derived from the test's pid): the host side is .1, the namespace side .2. Extra addresses
can be added on either side. Everything is deleted at cleanup, even when the test fails.
Needs root (CI runs the integration suite as root).
"""

import os
import subprocess

from . import harness

IP = "/usr/sbin/ip"
_count = [0]


def _ip(*args, ns=None, check=True):
    argv = [IP] + (["netns", "exec", ns, IP] if ns else []) + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise harness.TestFailure("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


class Netns:
    def __init__(self, h, tag="ns"):
        if os.geteuid() != 0:
            raise harness.TestFailure("network namespaces need root")
        _count[0] += 1
        pid = os.getpid()
        n = _count[0]
        self.name = "pbxit-%d-%s%d" % (pid, tag, n)
        # Interface names are limited to 15 bytes.
        self.host_if = "pxh%d%d" % (pid % 100000, n)
        self.ns_if = "pxn%d%d" % (pid % 100000, n)
        self.prefix = "10.%d.%d" % (100 + (pid >> 8) % 100 + n, pid & 255)
        self.host_ip = self.prefix + ".1"
        self.ns_ip = self.prefix + ".2"
        _ip("netns", "add", self.name)
        h.on_cleanup(self.delete)
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _ip("link", "set", self.ns_if, "netns", self.name)
        _ip("addr", "add", self.host_ip + "/24", "dev", self.host_if)
        _ip("link", "set", self.host_if, "up")
        _ip("addr", "add", self.ns_ip + "/24", "dev", self.ns_if, ns=self.name)
        _ip("link", "set", self.ns_if, "up", ns=self.name)
        _ip("link", "set", "lo", "up", ns=self.name)

    def add_host_addresses(self, count, first=10):
        """count more addresses on the host side (many sources talking into the namespace)."""
        ips = ["%s.%d" % (self.prefix, first + i) for i in range(count)]
        for ip in ips:
            _ip("addr", "add", ip + "/24", "dev", self.host_if)
        return ips

    def argv(self, argv):
        """argv run inside the namespace."""
        return [IP, "netns", "exec", self.name] + list(argv)

    def delete(self):
        # Deleting the namespace destroys its veth end, which removes the host end too.
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.name, check=False)
