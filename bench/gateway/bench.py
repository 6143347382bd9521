#!/usr/bin/env python3
"""Gateway benchmark: CPU per transaction and highest clean rate of UDP edge proxies.

The same SIPp scenarios (OPTIONS; REGISTER with digest auth) are offered at fixed rates
(2000/s, then stepping up) through each proxy in turn, all in front of the same Kamailio
registrar (tests/integration/kamailio/registrar.cfg.in):

  relay     bench/gateway/relay.c: recvfrom/sendto, no parsing (the physical floor)
  kamailio  bench/gateway/kamailio-edge.cfg.in: sanity, pike + htable bans, scanner UA
            drop, Path / Record-Route, stateless forwarding (forward())
  kamailio-tm  the same configuration, relaying statefully (tm, t_relay())
  pbxguard  pbxguard gateway --listen udp:... --upstream udp:..., enforcing, every
            detector on; like pike above, the per-source flood budgets are raised above the
            offered load (all of it comes from one SIPp address) and nftables is off

For each step the proxy's CPU (every thread of every process in its session; Kamailio's
several processes are summed) is read from /proc before and after the SIPp run.
Reported: CPU microseconds per transaction (an OPTIONS call is 1 transaction, a
REGISTER-with-auth call is 2: 401 then 200), and the highest offered rate with < 0.1 %
failed calls. Not a test: bounded (a few seconds per step), run by hand; see
docs/benchmarks.md.

  python3 bench/gateway/bench.py --relay build/bench/gateway/pbx_bench_relay \\
      --pbxguard build/src/app/pbxguard
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from lib import gateway, harness, kamailio, sipmsg, sipp  # noqa: E402

TX_PER_CALL = {"options": 1, "register": 2}
SCENARIO_FILE = {"options": "options.xml", "register": "register.xml"}
REGISTRAR_IP = "127.0.0.1"
PROXY_IP = "127.0.0.4"
PHONE_IP = "127.0.0.3"


def session_cpu(sid):
    """CPU seconds of every live thread of every process whose session id is sid.

    Read from /proc/PID/task/TID/schedstat (on-CPU time in nanoseconds, user and system
    together) rather than utime+stime in /proc/PID/stat, whose 10 ms ticks are too coarse
    for steps of a few seconds; /proc/PID/stat is still what finds the session.
    """
    total_ns = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            # After "(comm)": state ppid pgrp session ...
            if int(stat[stat.rindex(")") + 2:].split()[3]) != sid:
                continue
            for tid in os.listdir("/proc/%s/task" % pid):
                with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as f:
                    total_ns += int(f.read().split()[0])
        except (OSError, ValueError):
            continue
    return total_ns / 1e9


class Args:
    def __init__(self, pbxguard, keep):
        self.pbxguard = pbxguard
        self.keep = keep
        self.name = "bench-gateway"


def start_relay(h, relay_bin, upstream):
    port = h.free_port(PROXY_IP)
    proc = h.spawn("relay", [relay_bin, "%s:%d" % (PROXY_IP, port),
                             "%s:%d" % upstream])
    return proc, (PROXY_IP, port)


def start_kamailio_edge(h, upstream, children, stateful):
    port = h.free_port(PROXY_IP)
    name = "edge-tm" if stateful else "edge"
    d = h.subdir(name)
    rundir = h.subdir(name + "/run")
    with open(os.path.join(HERE, "kamailio-edge.cfg.in")) as f:
        text = f.read()
    for k, v in {"CHILDREN": str(children), "LISTEN": "%s:%d" % (PROXY_IP, port),
                 "RUNDIR": rundir, "UPSTREAM_IP": upstream[0],
                 "UPSTREAM": "sip:%s:%d" % upstream,
                 "TM_MODULE": 'loadmodule "tm.so"' if stateful else "",
                 "RELAY": "t_relay();" if stateful else "forward();"}.items():
        text = text.replace("@@%s@@" % k, v)
    cfg = os.path.join(d, "kamailio-edge.cfg")
    with open(cfg, "w") as f:
        f.write(text)
    proc = h.spawn(name, [kamailio.KAMAILIO, "-f", cfg, "-DD", "-E", "-Y", rundir,
                            "-P", os.path.join(rundir, "pid"), "-m", "128", "-M", "8",
                            "-w", d])
    return proc, (PROXY_IP, port)


# The pike threshold of kamailio-edge.cfg.in (30000 requests per 2 s) as pbxguard's flood
# budgets: per source, per method class, raw packets, and the global overload budget.
PIKE_EQUIVALENT = ("detect:\n  flood:\n" + "".join(
    "    %s_rate: 15000\n    %s_burst: 30000\n" % (k, k)
    for k in ("register", "invite", "options", "other", "packet", "global")) +
    "    rate: 15000\n    burst: 30000\n")


def start_pbxguard(h, upstream):
    gw = gateway.Gateway(h, [("udp", PROXY_IP, None)], ["udp:%s:%d" % upstream],
                         log_level="warn", shadow=False, extra_config=PIKE_EQUIVALENT)
    gw.start()
    return gw.proc, gw.addr("udp")


def wait_forwarding(proc, addr):
    def ready():
        if not proc.alive():
            raise harness.TestFailure("%s exited early:\n%s" % (proc.name, proc.log()[-2000:]))
        return sipmsg.ping(addr[0], addr[1], "udp", timeout=0.3)
    harness.wait_until(ready, 15, interval=0.1, what="%s to forward OPTIONS" % proc.name)


def run_step(h, proc, front, scenario, rate, seconds, users_csv, tag, per_sipp):
    """One step: the offered rate split over enough SIPp processes that none is asked for
    more than per_sipp calls/s (one SIPp tops out near 8000/s here, below the proxies)."""
    n = max(1, -(-rate // per_sipp))
    gens = []
    for i in range(n):
        share = rate // n + (1 if i < rate % n else 0)
        gens.append(sipp.Sipp(h, "%s-g%d" % (tag, i), SCENARIO_FILE[scenario], remote=front,
                              transport="udp", local_ip=PHONE_IP, calls=int(share * seconds),
                              rate=share, inf=users_csv, timeout=int(seconds) + 15,
                              limit=max(200, share),
                              extra=["-recv_timeout", "3000", "-nd"]))
    calls = sum(g.calls for g in gens)
    cpu0 = session_cpu(proc.pid)
    t0 = time.monotonic()
    for g in gens:
        g.start()
    results = [g.wait() for g in gens]
    wall = time.monotonic() - t0
    cpu = session_cpu(proc.pid) - cpu0
    ok = sum(x.successful for x in results)
    done = ok + sum(x.failed for x in results)
    failed = max(calls, done) - ok  # calls SIPp never finished count as failed
    tx = ok * TX_PER_CALL[scenario]
    return {
        "scenario": scenario, "rate": rate, "calls": calls, "successful": ok,
        "failed": failed, "fail_pct": 100.0 * failed / calls if calls else 0.0,
        "generators": n,
        "wall_s": round(wall, 2), "achieved_cps": round(ok / wall, 1),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_tx": round(1e6 * cpu / tx, 1) if tx else None,
        "cpu_s_per_1000_tx": round(1000 * cpu / tx, 4) if tx else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--relay", default=os.path.join(REPO, "build/bench/gateway/pbx_bench_relay"))
    ap.add_argument("--pbxguard", default="")
    ap.add_argument("--proxies", default="relay,kamailio,kamailio-tm,pbxguard")
    ap.add_argument("--scenarios", default="options,register")
    ap.add_argument("--rates", default="2000,3000,4000,6000,8000,10000,12000,14000")
    ap.add_argument("--seconds", type=float, default=4.0, help="duration of each step")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of the first rate, proxies taking turns (median)")
    ap.add_argument("--per-sipp", type=int, default=6000,
                    help="highest rate asked of one SIPp process; higher rates use several")
    ap.add_argument("--edge-children", type=int, default=2)
    ap.add_argument("--registrar-children", type=int, default=4)
    ap.add_argument("--json", default="", help="write all step results to this file")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rates = [int(x) for x in a.rates.split(",")]
    proxies = [p for p in a.proxies.split(",") if p]
    if "pbxguard" in proxies and not (a.pbxguard and os.access(a.pbxguard, os.X_OK)):
        print("pbxguard binary not given: skipping the pbxguard column")
        proxies.remove("pbxguard")
    if "relay" in proxies and not os.access(a.relay, os.X_OK):
        sys.exit("relay binary %s not found (build target pbx_bench_relay)" % a.relay)

    h = harness.Harness(Args(a.pbxguard, a.keep))
    results = []
    failed = True
    try:
        users = kamailio.load_users()
        registrar = kamailio.Kamailio(h, name="registrar", ip=REGISTRAR_IP, debug=0,
                                      users=users, children=a.registrar_children).start()
        upstream = (registrar.ip, registrar.port)
        users_csv = sipp.csv_for(h, "users", users)
        running = {}
        for proxy in proxies:
            if proxy == "relay":
                running[proxy] = start_relay(h, a.relay, upstream)
            elif proxy in ("kamailio", "kamailio-tm"):
                running[proxy] = start_kamailio_edge(h, upstream, a.edge_children,
                                                     proxy == "kamailio-tm")
            else:
                running[proxy] = start_pbxguard(h, upstream)
            wait_forwarding(*running[proxy])

        def step(proxy, scenario, rate, k):
            proc, front = running[proxy]
            # Whatever an overloaded step left queued must be gone first.
            wait_forwarding(proc, front)
            res = run_step(h, proc, front, scenario, rate, a.seconds, users_csv,
                           "%s-%s-%d-%d" % (proxy, scenario, rate, k), a.per_sipp)
            res["proxy"] = proxy
            results.append(res)
            print("%-11s %-9s rate %5d/s (%d SIPp): %6d ok %5d failed (%.3f%%), achieved "
                  "%7.1f/s, cpu %.3fs = %s us/tx" % (
                      proxy, scenario, rate, res["generators"], res["successful"], res["failed"],
                      res["fail_pct"], res["achieved_cps"], res["cpu_s"],
                      res["cpu_us_per_tx"]), flush=True)
            return res

        for scenario in a.scenarios.split(","):
            # The first rate is measured --repeat times, the proxies taking turns, so that
            # the load of a shared machine drifting during the run falls on all of them
            # alike; the median is reported.
            clean = {p: True for p in proxies}
            for k in range(a.repeat):
                for proxy in proxies:
                    if step(proxy, scenario, rates[0], k)["fail_pct"] >= 0.1:
                        clean[proxy] = False
            # Then each proxy steps up until a step fails.
            for proxy in proxies:
                if not clean[proxy]:
                    continue
                for rate in rates[1:]:
                    if step(proxy, scenario, rate, 0)["fail_pct"] >= 0.1:
                        break
        for proc, _ in running.values():
            proc.stop()
        failed = False
    finally:
        h.close(failed)

    print("\nsummary (CPU us per transaction at the first rate, median; highest rate with "
          "< 0.1% failures; ratios only between proxies clean at the first rate)")
    summary = {}
    for proxy in proxies:
        for scenario in a.scenarios.split(","):
            steps = [r for r in results if r["proxy"] == proxy and r["scenario"] == scenario]
            if not steps:
                continue
            first = [r for r in steps if r["rate"] == steps[0]["rate"]]
            clean_first = all(r["fail_pct"] < 0.1 for r in first)
            cpu = sorted(r["cpu_us_per_tx"] for r in first if r["cpu_us_per_tx"] is not None)
            median = cpu[len(cpu) // 2] if cpu else None
            rates_run = sorted(set(r["rate"] for r in steps))
            clean = [rt for rt in rates_run
                     if all(r["fail_pct"] < 0.1 for r in steps if r["rate"] == rt)]
            summary[(proxy, scenario)] = (median if clean_first else None,
                                          max(clean) if clean else 0)
            print("  %-11s %-9s %8s us/tx at %d/s (median of %d: %s)%s   max clean rate %s/s" % (
                proxy, scenario, median, steps[0]["rate"], len(first),
                ", ".join(str(c) for c in cpu), "" if clean_first else " OVERLOADED",
                max(clean) if clean else "none"))
    for scenario in a.scenarios.split(","):
        g = summary.get(("pbxguard", scenario))
        for other in ("relay", "kamailio", "kamailio-tm"):
            o = summary.get((other, scenario))
            if g and o and g[0] and o[0]:
                print("  %s: pbxguard/%s CPU ratio %.2f" % (scenario, other, g[0] / o[0]))
        r = summary.get(("relay", scenario))
        for kam in ("kamailio", "kamailio-tm"):
            k = summary.get((kam, scenario))
            if k and r and k[0] and r[0]:
                print("  %s: %s/relay CPU ratio %.2f" % (scenario, kam, k[0] / r[0]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
