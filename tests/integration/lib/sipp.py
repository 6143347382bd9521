"""SIPp (Debian sip-tester) runs: bounded, with counts read from -trace_stat.

SIPp exit codes: 0 all calls succeeded, 1 at least one failed, 97 stopped by an internal
command, 99 normal exit with no call processed, 255/-1 fatal error, 254/-2 bind failure.
"""

import csv
import os

from . import harness, sipmsg

SIPP = "/usr/bin/sipp"
SIPP_TRANSPORT = {"udp": "u1", "tcp": "t1"}


class Result:
    def __init__(self, rc, successful, failed, stat_path, err_path, log, msg_path=None):
        self.rc = rc
        self.successful = successful
        self.failed = failed
        self.stat_path = stat_path
        self.err_path = err_path
        self.log = log
        self.msg_path = msg_path

    def messages(self):
        """The -trace_msg log (only when the run asked for it)."""
        try:
            with open(self.msg_path, errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def errors(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __repr__(self):
        return "sipp(rc=%s, successful=%s, failed=%s)" % (self.rc, self.successful, self.failed)


def read_stats(path):
    """(successful, failed) cumulative call counts from the last line of a stat file."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return 0, 0
    if len(rows) < 2:
        return 0, 0
    head, last = rows[0], rows[-1]
    try:
        return int(last[head.index("SuccessfulCall(C)")]), int(last[head.index("FailedCall(C)")])
    except (ValueError, IndexError):
        return 0, 0


class Sipp:
    """One SIPp process. Build with the arguments, then run() (blocking) or start()/wait().

    scenario: file name in tests/integration/sipp/ (or an absolute path).
    remote: (host, port) of the peer; None for a pure UAS.
    transport: udp or tcp (this SIPp has no TLS).
    calls: -m; rate: calls per second (-r); keys: dict for -key; inf: injection file.
    """

    def __init__(self, h, name, scenario, remote=None, transport="udp", local_ip="127.0.0.1",
                 local_port=None, calls=1, rate=None, keys=None, inf=None, service=None,
                 timeout=20, extra=None, ooc=None, duration_ms=None, limit=None,
                 trace_msg=False):
        self.h = h
        self.name = name
        self.dir = h.subdir(name)
        self.local_ip = local_ip
        self.local_port = local_port or h.free_port(local_ip)
        self.transport = transport
        self.timeout = timeout
        self.calls = calls
        self.stat_path = os.path.join(self.dir, "stat.csv")
        self.err_path = os.path.join(self.dir, "errors.log")
        self.msg_path = os.path.join(self.dir, "messages.log")
        scen = scenario if os.path.isabs(scenario) else os.path.join(harness.SIPP_DIR, scenario)
        argv = [SIPP]
        if remote:
            argv.append(sipmsg.hostport(remote[0], remote[1]))
        argv += ["-sf", scen, "-t", SIPP_TRANSPORT[transport], "-i", local_ip,
                 "-p", str(self.local_port), "-mp", str(h.free_port(local_ip)),
                 "-m", str(calls), "-nostdin", "-timeout", "%ds" % timeout, "-timeout_error",
                 "-trace_stat", "-stf", self.stat_path, "-fd", "1",
                 "-trace_err", "-error_file", self.err_path, "-max_recv_loops", "10000"]
        if trace_msg:
            argv += ["-trace_msg", "-message_file", self.msg_path]
        if rate:
            argv += ["-r", str(rate), "-rp", "1000"]
        if limit:
            argv += ["-l", str(limit)]
        if inf:
            argv += ["-inf", inf]
        if service:
            argv += ["-s", str(service)]
        if ooc:
            argv += ["-oocsf", ooc if os.path.isabs(ooc) else os.path.join(harness.SIPP_DIR, ooc)]
        if duration_ms is not None:
            argv += ["-d", str(duration_ms)]
        keys = dict(keys or {})
        keys.setdefault("expires", "300")
        keys.setdefault("who", name)
        for k, v in keys.items():
            argv += ["-key", k, str(v)]
        argv += extra or []
        self.argv = argv
        self.proc = None

    def start(self):
        self.proc = self.h.spawn(self.name, self.argv, cwd=self.dir)
        return self

    def wait(self, timeout=None):
        rc = self.proc.wait(timeout if timeout is not None else self.timeout + 10)
        ok, failed = read_stats(self.stat_path)
        r = Result(rc, ok, failed, self.stat_path, self.err_path, self.proc.log(),
                   self.msg_path)
        self.h.log("%s: %r" % (self.name, r))
        return r

    def run(self):
        return self.start().wait()

    def stop(self):
        if self.proc:
            self.proc.stop()


def expect_all(result, calls, what):
    """Fails the test unless every one of calls calls succeeded."""
    if result.rc != 0 or result.successful != calls or result.failed != 0:
        raise harness.TestFailure("%s: %r, want %d successful; errors:\n%s"
                                  % (what, result, calls, result.errors()[-3000:]))


def csv_for(h, name, users, mode="SEQUENTIAL"):
    """Writes an injection file for users [(user, password, domain)] and returns its path."""
    from . import kamailio
    path = h.path(name + ".csv")
    kamailio.write_users_csv(path, users, mode)
    return path

