"""Toll-fraud policy tests through pbxguard gateway: the PBX (Kamailio) routes every dialled
number to the SIPp "carrier" UAS, so whatever the gateway lets through completes, and what
the policy refuses never reaches the PBX.

Time: the gateway reads PBXGUARD_TEST_FRAUD_TIME (test-only, seconds since the epoch) as the
instant it starts at, so schedules are tested at fixed clock times without waiting.
"""

import calendar
import json
import os
import random
import re
import sqlite3
import subprocess

from . import gateway, harness, scenarios, sipp

FRAUD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fraud")
# Extensions 5xxx and every dialled number of 3+ digits (with or without '+') go to the UAS.
UAS_RE = "^(5[0-9]{3}|[+]?[0-9]{3,})$"
# A Wednesday (2026-11-25) inside business hours, the same evening, and midday.
WED_10H = calendar.timegm((2026, 11, 25, 10, 0, 0))
WED_22H = calendar.timegm((2026, 11, 25, 22, 0, 0))

NATIONAL = "02079460000"       # London, dialled nationally (GB plan)
INTL_FR = "+33142685300"       # international, allowed in business hours only
PREMIUM_GB = "+449098790000"   # premium rate
PREMIUM_US = "+19005551234"    # premium rate
HIGH_RISK = "+5372345678"      # Cuba, on the default high-risk list
SATELLITE = "+88163123456"     # satellite
EMERGENCY = "999"
INTERNAL = "5000"


def scenario(name):
    return os.path.join(FRAUD_DIR, name)


def topology(h, open_dialplan=False):
    """open_dialplan: the PBX routes INVITEs without asking for credentials (the toll-fraud
    hole `pbxguard probe` reports as "unauthenticated INVITE routed"); REGISTER still needs
    them."""
    topo = scenarios.Topology(h)
    topo.pbx.uas_re = UAS_RE
    if open_dialplan:
        _open_dialplan(topo.pbx)
    return topo.start()


def _open_dialplan(pbx):
    render = pbx.render

    def render_open():
        path = render()
        with open(path) as f:
            text = f.read()
        # The template only lets the trunk call without credentials: nobody is the trunk
        # any more, so the authentication of INVITEs is skipped for every source.
        needle = 'if ($si != "%s") {' % pbx.uas[0]
        if text.count(needle) != 1:
            raise harness.TestFailure("Kamailio template: INVITE authentication not found")
        text = text.replace(needle, 'if ($si == "0.0.0.0") {')
        with open(path, "w") as f:
            f.write(text)
        return path
    pbx.render = render_open


class FraudGateway(gateway.Gateway):
    """A gateway with a fraud: section (fraud_yaml: the section's lines, indented by two
    spaces; None: no section, the control) started at the test clock `when`."""

    def __init__(self, h, topo, fraud_yaml, when=None, name="gateway", shadow=True):
        super().__init__(h, [("udp", gateway.GW_IP, None), ("tcp", gateway.GW_IP, None)],
                         [topo.pbx.uri("udp")], name=name, shadow=shadow)
        self.transport = h.args.transport  # what the phones use
        self.when = when
        if fraud_yaml is not None:
            with open(self.config_path, "a") as f:
                f.write("fraud:\n" + fraud_yaml)

    def start(self, timeout=15):
        argv = [self.h.pbxguard, "gateway", "-c", self.config_path, "--foreground",
                "--data-dir", self.data_dir]
        for t, ip, port in self.listen:
            argv += ["--listen", gateway.uri(t, ip, port)]
        for u in self.upstreams:
            argv += ["--upstream", u]
        env = dict(os.environ)
        if self.when is not None:
            env["PBXGUARD_TEST_FRAUD_TIME"] = str(int(self.when))
        self.proc = self.h.spawn(self.name, argv, env=env)
        self.wait_ready(timeout)
        return self

    def ctl(self, *args, ok=True):
        r = subprocess.run([self.h.pbxguard, "ctl", "--data-dir", self.data_dir] + list(args),
                           capture_output=True, text=True, timeout=10)
        self.h.log("ctl %s -> %d: %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        if ok is not None and (r.returncode == 0) != ok:
            raise harness.TestFailure("pbxguard ctl %s: exit %d, want %s:\n%s%s"
                                      % (" ".join(args), r.returncode, "0" if ok else "!= 0",
                                         r.stdout, r.stderr))
        return r.stdout

    def db(self):
        return os.path.join(self.data_dir, "pbxguard.db")

    def rows(self, sql, args=()):
        """Rows from the gateway's SQLite store (read-only; WAL readers do not block it)."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db(), uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()


def allowed(h, topo, gw, user, number, name):
    """user calls number through the gateway; the call must complete end to end."""
    return scenarios.call_to_uas(h, topo, gw.addr(gw.transport), gw.transport, user,
                                 callee=number, name=name)


def refused(h, topo, gw, user, number, rule, name, local_ip=scenarios.PHONE_IP):
    """user calls number; the gateway must answer 403 naming `rule`, and the PBX must never
    route the call."""
    marker = "PBXIT-TO-UAS %s\n" % number
    before = topo.pbx.log().count(marker)
    inf = sipp.csv_for(h, name, [user])
    r = sipp.Sipp(h, name, scenario("uac_refused.xml"), remote=gw.addr(gw.transport),
                  transport=gw.transport, local_ip=local_ip, inf=inf, service=number,
                  timeout=10, trace_msg=True).run()
    sipp.expect_all(r, 1, "%s calling %s: want 403 (%s)" % (user[0], number, rule))
    want = "403 Forbidden (%s)" % rule
    harness.check(want in r.messages(), "%s calling %s: no '%s' in the answer:\n%s"
                  % (user[0], number, want, r.messages()[-1500:]))
    harness.check(topo.pbx.log().count(marker) == before,
                  "the refused call to %s reached the PBX's routing" % number)
    one_refusal_event(gw, r, "fraud." + rule)
    return r


def call_id_of(r):
    """The Call-ID of the first message in a SIPp message trace."""
    m = re.search(r"^\s*Call-ID:\s*(\S+)", r.messages(), re.M | re.I)
    if not m:
        raise harness.TestFailure("no Call-ID in the SIPp trace")
    return m.group(1)


def events_barrier(gw):
    """Returns once every event the gateway made before the call is in its events file.
    Events are written in the order they are made, so a marker made now and seen in the file
    vouches for all before it: a manual ban of a documentation address (RFC 5737), lifted
    at once."""
    marker = "192.0.2.%d" % random.randint(1, 254)
    gw.ctl("ban", "add", marker, "1m", "events barrier")

    def written():
        return any(marker in json.dumps(e) for e in gw.events())
    harness.wait_until(written, 5, interval=0.05, what="the events barrier to be written")
    gw.ctl("ban", "del", marker)


def one_refusal_event(gw, r, rule):
    """The refused INVITE of trace r left exactly one refusal event, the policy's (rule):
    the gateway's answer to a hook's refusal is not recorded again as a proxy.reject."""
    cid = call_id_of(r)

    def decided():
        evs = [e for e in gw.events() if e.get("call_id") == cid]
        return evs if any(e.get("rule") == rule for e in evs) else None
    harness.wait_until(decided, 5, interval=0.1, what="the %s event of %s" % (rule, cid))
    events_barrier(gw)
    evs = [e for e in gw.events() if e.get("call_id") == cid]
    refusals = [e for e in evs if e.get("action") in ("reject", "lock", "quarantine")]
    harness.check(len(refusals) == 1 and refusals[0].get("rule") == rule,
                  "want exactly one refusal event (%s) for %s, got %r" % (rule, cid, refusals))
    harness.check(not any(e.get("type") == "proxy.reject" for e in evs),
                  "a hook's refusal was recorded again as proxy.reject: %r" % evs)


def no_stray_drops(gw):
    """No proxy.drop event: the answers to the gateway's own BYEs and CANCELs are absorbed,
    not reported as responses the proxy cannot route."""
    events_barrier(gw)
    drops = [e for e in gw.events() if e.get("type") == "proxy.drop"]
    harness.check(not drops, "answers to the gateway's own requests reported: %r" % drops)


def _call(h, topo, gw, user, number, name, uas_scenario, caller_scenario, watched, mark,
          what, local_ip, timeout):
    """Starts the carrier UAS and the caller; returns (caller, uas) once the watched side's
    message trace holds mark."""
    uas = topo.start_uas(uas_scenario, name=name + "-uas", timeout=timeout)
    inf = sipp.csv_for(h, name, [user])
    caller = sipp.Sipp(h, name, scenario(caller_scenario), remote=gw.addr(gw.transport),
                       transport=gw.transport, local_ip=local_ip, inf=inf, service=number,
                       timeout=timeout, trace_msg=True).start()
    trace = (caller if watched == "caller" else uas).msg_path

    def reached():
        if not caller.proc.alive() and not uas.proc.alive():
            raise harness.TestFailure("%s: both sides ended before the call was %s"
                                      % (name, what))
        try:
            with open(trace, errors="replace") as f:
                return mark in f.read()
        except OSError:
            return False
    harness.wait_until(reached, 10, interval=0.05, what="%s to be %s" % (name, what))
    return caller, uas


def ringing_call(h, topo, gw, user, number, name, local_ip=scenarios.PHONE_IP, timeout=20):
    """Starts a call the carrier only rings (180) and the caller never cancels: only the
    network can end it. Returns (caller, uas) SIPp processes once the caller heard the 180."""
    return _call(h, topo, gw, user, number, name, "uas_ring.xml", "uac_wait_cancel.xml",
                 "caller", "SIP/2.0 180", "ringing", local_ip, timeout)


def expect_cancelled_by_gateway(caller, uas, what):
    """The carrier received a CANCEL of the ringing INVITE (it answers 200 and 487) and the
    caller got the 487 and nothing for a CANCEL it never sent."""
    rc = caller.wait()
    ru = uas.wait()
    sipp.expect_all(rc, 1, "%s: caller side (want 487)" % what)
    sipp.expect_all(ru, 1, "%s: carrier side (want CANCEL)" % what)
    harness.check("CANCEL sip:" in ru.messages(), "%s: the carrier got no CANCEL" % what)
    harness.check("487 Request Terminated" in rc.messages(), "%s: the caller got no 487" % what)


def held_call(h, topo, gw, user, number, name, local_ip=scenarios.PHONE_IP, timeout=20):
    """Starts a call that only the network can end (BYE expected on both sides).
    Returns (caller, uas) SIPp processes, after the UAS saw the ACK."""
    return _call(h, topo, gw, user, number, name, "uas.xml", "uac_wait_bye.xml", "uas",
                 "ACK sip:", "answered and ACKed", local_ip, timeout)


def expect_ended_by_gateway(caller, uas, rule, what):
    """Both sides of a held call received the gateway's BYE (with its Reason) and answered."""
    rc = caller.wait()
    ru = uas.wait()
    sipp.expect_all(rc, 1, "%s: caller side" % what)
    sipp.expect_all(ru, 1, "%s: carrier side" % what)
    for side, r in (("caller", rc), ("carrier", ru)):
        text = r.messages()
        harness.check("BYE sip:" in text and ("pbxguard fraud policy: %s" % rule) in text,
                      "%s: the %s side did not get the gateway's BYE (%s)" % (what, side, rule))


def anon_user(topo):
    """A caller with no credentials: a CSV line whose password is never used."""
    u = topo.users[0]
    return ("anon",) + tuple(u[1:])


def anon_call(h, topo, gw, number, name, local_ip=scenarios.PHONE_IP):
    """An INVITE without credentials to number; it must complete (answered by the carrier)
    and the PBX must have routed it. Returns (caller, carrier) results."""
    marker = "PBXIT-TO-UAS %s\n" % number
    before = topo.pbx.log().count(marker)
    uas = topo.start_uas("uas.xml", name=name + "-uas")
    inf = sipp.csv_for(h, name, [anon_user(topo)])
    r = sipp.Sipp(h, name, scenario("uac_anon_call.xml"), remote=gw.addr(gw.transport),
                  transport=gw.transport, local_ip=local_ip, inf=inf, service=number,
                  timeout=15, trace_msg=True).run()
    ru = uas.wait()
    sipp.expect_all(r, 1, "unauthenticated call to %s (caller)" % number)
    sipp.expect_all(ru, 1, "unauthenticated call to %s (carrier)" % number)
    harness.check(topo.pbx.log().count(marker) > before,
                  "the unauthenticated call to %s was not routed by the PBX" % number)
    return r, ru


def anon_refused(h, topo, gw, number, rule, name, local_ip=scenarios.PHONE_IP):
    """An INVITE without credentials to number: refused at once with the challenge a PBX that
    authenticates would send (407 with Proxy-Authenticate, no rule in the answer, so a scanner
    cannot tell refused numbers from existing ones), the refusal's rule in the event stream,
    and never routed."""
    marker = "PBXIT-TO-UAS %s\n" % number
    before = topo.pbx.log().count(marker)
    inf = sipp.csv_for(h, name, [anon_user(topo)])
    r = sipp.Sipp(h, name, scenario("uac_anon_refused.xml"), remote=gw.addr(gw.transport),
                  transport=gw.transport, local_ip=local_ip, inf=inf, service=number,
                  timeout=10, trace_msg=True).run()
    sipp.expect_all(r, 1, "unauthenticated call to %s: want a 407 challenge (%s)" % (number, rule))
    answer = r.messages()
    harness.check("407 Proxy Authentication Required" in answer and
                  "Proxy-Authenticate: Digest realm=" in answer and rule not in answer,
                  "unauthenticated call to %s: not a plain challenge:\n%s"
                  % (number, answer[-1500:]))
    want = "fraud." + rule

    def decided():
        return any(e.get("rule") == want and e.get("action") in ("reject", "lock", "quarantine")
                   for e in gw.events())
    harness.wait_until(decided, 5, what="a %s refusal event for %s" % (want, number))
    harness.check(topo.pbx.log().count(marker) == before,
                  "the refused unauthenticated call to %s reached the PBX's routing" % number)
    return r


def anon_held_call(h, topo, gw, number, name, local_ip=scenarios.PHONE_IP, timeout=20):
    """An unauthenticated call the PBX answers and only the network can end."""
    return _call(h, topo, gw, anon_user(topo), number, name, "uas.xml",
                 "uac_anon_wait_bye.xml", "uas", "ACK sip:", "answered and ACKed", local_ip,
                 timeout)
