#!/usr/bin/env python3
"""Flood benchmark: legitimate success, memory and CPU per message under a spoofed flood.

One Kamailio registrar (tests/integration/kamailio/registrar.cfg.in) behind each front in
turn:

  pbxguard  pbxguard gateway, detection enforced (not shadow), nftables off (the bench
            measures the daemon, and kernel bans would hide the flood from it)
  kamailio  bench/gateway/kamailio-edge.cfg.in (sanity, scanner UA drop, pike + htable
            bans, stateless forward()), with pike at a production threshold (--pike per
            2 s per address) instead of the gateway bench's 30000

For each front: legitimate phones (SIPp, REGISTER with digest auth, 50 users from one
address) register once before the flood (so a front that learns trust can use it), then
keep registering at --legit-rate calls/s while a flood of OPTIONS requests arrives at
--rate messages/s from --sources distinct spoofed loopback addresses (127.90.0.0/16, raw
socket with IP_HDRINCL: no address needs adding) for --seconds. Reported: legitimate
success (SIPp), resident memory of the front (every process of its session) before and at
the end of the flood, and its CPU time divided by the messages it received (flood +
legitimate).

Not a test: run by hand as root, bounded (count = rate x seconds; a few seconds each):

  python3 bench/flood/flood.py --pbxguard build/src/app/pbxguard
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from lib import gateway, harness, kamailio, sipmsg, sipp  # noqa: E402

REGISTRAR_IP = "127.0.0.1"
PROXY_IP = "127.0.0.4"
PHONE_IP = "127.0.0.3"
FLOOD_NET = (127, 90)


def session_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[3])


def session_pids(sid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if session_of(int(pid)) == sid:
                out.append(int(pid))
        except (OSError, ValueError):
            continue
    return out


def session_cpu(sid):
    """CPU seconds (schedstat, ns resolution) of every thread of the session's processes."""
    total = 0
    for pid in session_pids(sid):
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError):
            continue
    return total / 1e9


def session_rss_kib(sid):
    """Resident memory of the session: VmRSS summed (Kamailio's shared memory is counted
    once per process that touched it, so its figure is an upper bound)."""
    total = 0
    for pid in session_pids(sid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


def flood_packets(sources, dst):
    """One OPTIONS per source address, as complete IPv4+UDP packets (IP_HDRINCL)."""
    pkts = []
    dst_ip = socket.inet_aton(dst[0])
    for i in range(sources):
        src = "%d.%d.%d.%d" % (FLOOD_NET + (1 + i // 250, 1 + i % 250))
        sport = 5060 + i % 1000
        body = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
                "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x;rport\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=%08x\r\nTo: <sip:100@%s>\r\n"
                "Call-ID: %08x@%s\r\nCSeq: 1 OPTIONS\r\nUser-Agent: Grandstream GXP2170\r\n"
                "Content-Length: 0\r\n\r\n"
                % (dst[0], dst[1], src, sport, random.getrandbits(32), dst[0],
                   random.getrandbits(32), dst[0], random.getrandbits(32), src)).encode()
        udp = struct.pack("!HHHH", sport, dst[1], 8 + len(body), 0) + body
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64,
                         socket.IPPROTO_UDP, 0, socket.inet_aton(src), dst_ip)
        pkts.append((ip + udp, src))
    return pkts


def flood(pkts, dst, rate, seconds):
    """Sends round-robin over pkts at rate per second for seconds; returns the count."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    total = int(rate * seconds)
    sent = 0
    t0 = time.monotonic()
    batch = max(1, rate // 200)
    try:
        while sent < total:
            for _ in range(min(batch, total - sent)):
                p = pkts[sent % len(pkts)][0]
                try:
                    s.sendto(p, (dst, 0))
                except OSError:
                    pass
                sent += 1
            due = t0 + sent / float(rate)
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing of the load generator
            if time.monotonic() - t0 > seconds * 3:
                break  # the generator cannot keep up: bounded anyway
    finally:
        s.close()
    return sent, time.monotonic() - t0


def start_pbxguard(h):
    gw = gateway.Gateway(h, [("udp", PROXY_IP, None)], ["udp:%s:%d" % h.upstream],
                         log_level="warn", shadow=False)
    gw.start()
    return gw.proc, gw.addr("udp")


def start_kamailio_edge(h, pike):
    port = h.free_port(PROXY_IP)
    d = h.subdir("edge")
    rundir = h.subdir("edge/run")
    with open(os.path.join(REPO, "bench", "gateway", "kamailio-edge.cfg.in")) as f:
        text = f.read()
    want = 'modparam("pike", "reqs_density_per_unit", 30000)'
    if want not in text:
        raise harness.TestFailure("kamailio-edge.cfg.in changed: no %s" % want)
    text = text.replace(want, 'modparam("pike", "reqs_density_per_unit", %d)' % pike)
    for k, v in {"CHILDREN": "2", "LISTEN": "%s:%d" % (PROXY_IP, port), "RUNDIR": rundir,
                 "UPSTREAM_IP": h.upstream[0], "UPSTREAM": "sip:%s:%d" % h.upstream,
                 "TM_MODULE": "", "RELAY": "forward();"}.items():
        text = text.replace("@@%s@@" % k, v)
    cfg = os.path.join(d, "kamailio-edge.cfg")
    with open(cfg, "w") as f:
        f.write(text)
    proc = h.spawn("edge", [kamailio.KAMAILIO, "-f", cfg, "-DD", "-E", "-Y", rundir,
                            "-P", os.path.join(rundir, "pid"), "-m", "128", "-M", "8",
                            "-w", d])

    def ready():
        if not proc.alive():
            raise harness.TestFailure("edge exited early:\n%s" % proc.log()[-2000:])
        return sipmsg.ping(PROXY_IP, port, "udp", timeout=0.3)
    harness.wait_until(ready, 15, interval=0.1, what="edge to forward OPTIONS")
    return proc, (PROXY_IP, port)


def pbx_requests(h):
    """Requests the registrar has received so far (kamcmd stats.get_statistics)."""
    out = h.pbx.kamcmd("stats.get_statistics", "rcv_requests")
    for tok in out.replace("=", " ").split():
        if tok.isdigit():
            return int(tok)
    return -1


def run_front(h, name, a, users):
    proc, front = start_pbxguard(h) if name == "pbxguard" else start_kamailio_edge(h, a.pike)
    sid = session_of(proc.popen.pid)
    csv = sipp.csv_for(h, name + "-users", users)
    warm = sipp.Sipp(h, name + "-warmup", "register.xml", remote=front, local_ip=PHONE_IP,
                     calls=len(users), rate=25, inf=csv, timeout=20).run()
    pkts = flood_packets(a.sources, front)
    rss0 = session_rss_kib(sid)
    req0 = pbx_requests(h)
    cpu0 = session_cpu(sid)
    calls = int(a.legit_rate * a.seconds)
    legit = sipp.Sipp(h, name + "-legit", "register.xml", remote=front, local_ip=PHONE_IP,
                      calls=calls, rate=a.legit_rate, inf=csv, timeout=int(a.seconds) + 20,
                      limit=50).start()
    sent, took = flood(pkts, front[0], a.rate, a.seconds)
    r = legit.wait()
    cpu = session_cpu(sid) - cpu0
    rss1 = session_rss_kib(sid)
    reached = pbx_requests(h) - req0
    msgs = sent + 2 * calls
    res = {"front": name, "flood_sent": sent, "flood_seconds": round(took, 2),
           "flood_rate": round(sent / took), "sources": a.sources,
           "warmup_ok": warm.successful, "legit_calls": calls, "legit_ok": r.successful,
           "legit_success_pct": round(100.0 * r.successful / calls, 2) if calls else None,
           "pbx_requests": reached, "pbx_requests_per_s": round(reached / took),
           "rss_before_kib": rss0, "rss_after_kib": rss1, "cpu_s": round(cpu, 3),
           "cpu_us_per_msg": round(1e6 * cpu / msgs, 2)}
    proc.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pbxguard", required=True)
    ap.add_argument("--fronts", default="pbxguard,kamailio")
    ap.add_argument("--rate", type=int, default=20000, help="flood messages per second")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--sources", type=int, default=4000)
    ap.add_argument("--legit-rate", type=int, default=10, help="REGISTER calls per second")
    ap.add_argument("--pike", type=int, default=100, help="Kamailio pike requests per 2 s")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("flood.py needs root (raw socket with spoofed loopback sources)")
    if a.sources > 250 * 250:
        sys.exit("--sources at most 62500")

    class Args:
        pass
    args = Args()
    args.pbxguard, args.keep, args.name = a.pbxguard, a.keep, "bench-flood"
    h = harness.Harness(args)
    results = []
    try:
        users = kamailio.load_users()[:50]
        pbx = kamailio.Kamailio(h, name="registrar", ip=REGISTRAR_IP, children=4).start()
        h.upstream = (REGISTRAR_IP, pbx.port)
        h.pbx = pbx
        for name in a.fronts.split(","):
            res = run_front(h, name, a, users)
            results.append(res)
            print(json.dumps(res), flush=True)
    finally:
        h.close(False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
