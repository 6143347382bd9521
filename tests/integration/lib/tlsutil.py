"""Test certificates made at test time with the openssl command (nothing checked in)."""

import os
import subprocess

from . import harness

OPENSSL = "/usr/bin/openssl"


def _run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise harness.TestFailure("openssl failed: %s\n%s" % (" ".join(argv), r.stderr))


class Pki:
    """A throw-away CA in dir; issue() makes leaf certificates signed by it."""

    def __init__(self, h, name="pki"):
        self.dir = h.subdir(name)
        self.ca_key = os.path.join(self.dir, "ca.key")
        self.ca_cert = os.path.join(self.dir, "ca.pem")
        _run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "2",
              "-subj", "/CN=pbxguard integration test CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], self.dir)

    def issue(self, name, dns=(), ips=()):
        """(cert_path, key_path) for a server/client certificate with the given SANs."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        sans = ["DNS:%s" % d for d in dns] + ["IP:%s" % i for i in ips]
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            f.write("keyUsage=critical,digitalSignature,keyEncipherment\n")
            f.write("extendedKeyUsage=serverAuth,clientAuth\n")
            if sans:
                f.write("subjectAltName=%s\n" % ",".join(sans))
        _run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % name], self.dir)
        _run([OPENSSL, "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
              "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext], self.dir)
        return cert, key
