"""Raw SIP over UDP, TCP and TLS: readiness probes and hand-made (malformed) messages."""

import os
import socket
import ssl


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def options(host, port, transport="udp", call_id=None, local=("127.0.0.1", 0)):
    """An OPTIONS request addressed to the target itself (no user part)."""
    call_id = call_id or os.urandom(8).hex()
    branch = "z9hG4bK" + os.urandom(8).hex()
    return (
        "OPTIONS sip:%s SIP/2.0\r\n"
        "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@pbx.test>;tag=%s\r\n"
        "To: <sip:%s>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
        % (hostport(host, port), transport.upper(), hostport(local[0], local[1] or 9), branch,
           os.urandom(4).hex(), hostport(host, port), call_id)
    ).encode()


def _tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def exchange(host, port, data, transport="udp", timeout=0.5, src=None):
    """Sends data once and returns the first response bytes received (b"" if none).

    src is an optional (ip, port) to bind. Never raises on network errors: a probe
    that cannot connect simply gets no answer.
    """
    fam = _family(host)
    try:
        if transport == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            try:
                s.settimeout(timeout)
                if src:
                    s.bind(src)
                s.sendto(data, (host, port))
                return s.recv(65535)
            finally:
                s.close()
        s = socket.create_connection((host, port), timeout=timeout, source_address=src)
        try:
            if transport == "tls":
                s = _tls_context().wrap_socket(s)
            s.settimeout(timeout)
            s.sendall(data)
            return s.recv(65535)
        finally:
            s.close()
    except (OSError, ssl.SSLError):
        return b""


def send_only(host, port, data, transport="udp", src=None):
    """Sends data and does not wait for anything (for messages nobody should answer)."""
    fam = _family(host)
    if transport == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            if src:
                s.bind(src)
            s.sendto(data, (host, port))
        finally:
            s.close()
        return
    s = socket.create_connection((host, port), timeout=2, source_address=src)
    try:
        if transport == "tls":
            s = _tls_context().wrap_socket(s)
        s.sendall(data)
    finally:
        s.close()


def status_code(resp):
    """The status code of a response, or 0 if resp is not a SIP response."""
    if not resp.startswith(b"SIP/2.0 "):
        return 0
    try:
        return int(resp[8:11])
    except ValueError:
        return 0


def ping(host, port, transport="udp", timeout=0.5):
    """True when an OPTIONS sent to host:port gets any SIP response."""
    return status_code(exchange(host, port, options(host, port, transport), transport,
                                timeout)) > 0
