"""Test driver for the integration suite: temp dir, processes, hard timeout, cleanup.

Every test file calls run(main, timeout=...). main(h) receives a Harness that owns a
private temporary directory and every process started through it. Whatever happens
(assertion, exception, timeout, SIGTERM from CTest), all processes are killed, network
namespaces removed, and on failure the logs of every process are printed.
"""

import argparse
import atexit
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
IT_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(IT_DIR))
SIPP_DIR = os.path.join(IT_DIR, "sipp")
KAMAILIO_DIR = os.path.join(IT_DIR, "kamailio")


class TestFailure(Exception):
    """An assertion about the system under test did not hold."""


class TestTimeout(Exception):
    """The test's hard time limit was reached."""


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value or timeout seconds pass.

    Returns pred's value; raises TestFailure on timeout. Used for readiness checks so
    no test synchronises on a bare sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """A child process in its own session, its output captured in a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s still running after %.1fs" % (self.name, timeout))

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL the whole process group after grace seconds."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Children (Kamailio workers) may outlive the leader: kill the group.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Harness:
    def __init__(self, args):
        self.args = args
        self.pbxguard = args.pbxguard
        self.dir = tempfile.mkdtemp(prefix="pbxit-%s-" % args.name)
        self.procs = []
        self.cleanups = []
        self._closed = False
        self._ports = set()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def subdir(self, name):
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        return d

    def spawn(self, name, argv, env=None, cwd=None):
        log = self.path("%s.log" % name)
        self.log("start %s: %s" % (name, " ".join(argv)))
        p = Proc(name, argv, log, env=env, cwd=cwd)
        self.procs.append(p)
        return p

    def on_cleanup(self, fn):
        self.cleanups.append(fn)

    def log(self, msg):
        sys.stdout.write("[%7.2f] %s\n" % (time.monotonic() - START, msg))
        sys.stdout.flush()

    def free_port(self, host="127.0.0.1"):
        """A port free for both UDP and TCP on host, not handed out before by this test.

        Chosen below the kernel's ephemeral range: a test reuses its ports (a UAS restarted
        on the address the PBX routes to), and in between an unbound socket of any other
        process could be given an ephemeral port that blocks the next bind."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        low, high = _fixed_port_range()
        for _ in range(400):
            port = random.randint(low, high)
            if port in self._ports:
                continue
            u = socket.socket(family, socket.SOCK_DGRAM)
            t = socket.socket(family, socket.SOCK_STREAM)
            try:
                u.bind((host, port))
                t.bind((host, port))
                self._ports.add(port)
                return port
            except OSError:
                continue
            finally:
                u.close()
                t.close()
        raise TestFailure("no free port on %s" % host)

    def close(self, failed):
        if self._closed:
            return
        self._closed = True
        for p in reversed(self.procs):
            p.stop()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # cleanup must go on whatever fails
                sys.stdout.write("cleanup error: %r\n" % (e,))
        if failed:
            for p in self.procs:
                text = p.log()
                lines = text.splitlines()
                sys.stdout.write("----- log of %s (%s, last 80 of %d lines) -----\n"
                                 % (p.name, p.log_path, len(lines)))
                for line in lines[-80:]:
                    sys.stdout.write("  %s\n" % line[:400])
            sys.stdout.write("test files kept in %s\n" % self.dir)
        elif not self.args.keep:
            subprocess.run(["rm", "-rf", self.dir], check=False)
        sys.stdout.flush()


START = time.monotonic()


def _on_alarm(signum, frame):
    raise TestTimeout("hard time limit reached")


def _on_term(signum, frame):
    raise TestFailure("terminated by signal %d" % signum)


def run(main, timeout=120, extra_args=None):
    """Parses the common arguments, runs main(h) under a hard timeout, cleans up.

    Exits 0 when main returns, 1 on any failure. Common arguments:
      --pbxguard PATH  the pbxguard binary (CTest passes $<TARGET_FILE:pbxguard>)
      --transport T    udp, tcp or tls for tests that are run once per transport
      --keep           keep the temporary directory even on success
      --ipv6           phones use ::1 (tests that support it)
    """
    ap = argparse.ArgumentParser()
    ap.add_argument("--pbxguard", default=os.environ.get("PBXGUARD", ""))
    ap.add_argument("--transport", default="udp", choices=["udp", "tcp", "tls"])
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--ipv6", action="store_true", help="phones on ::1")
    for a in extra_args or []:
        ap.add_argument(*a[0], **a[1])
    args = ap.parse_args()
    args.name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    h = Harness(args)
    failed = True
    atexit.register(lambda: h.close(True))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(int(timeout))
    try:
        main(h)
        failed = False
    except (TestFailure, TestTimeout) as e:
        print("FAIL: %s" % e)
    except Exception:
        traceback.print_exc()
        print("FAIL: unexpected exception")
    finally:
        signal.alarm(0)
        try:
            h.close(failed)
        except TestTimeout:
            pass
    print("%s: %s" % (args.name, "FAILED" if failed else "passed"))
    sys.exit(1 if failed else 0)


def _fixed_port_range():
    """Ports for servers the tests start: between 10000 and the start of the ephemeral range."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    return 10000, max(10000 + 1000, ephemeral_low - 1)
