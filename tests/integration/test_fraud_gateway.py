#!/usr/bin/env python3
"""The toll-fraud policy live in pbxguard gateway (docs/fraud.md, "In the gateway").

Phones (SIPp, digest auth at the PBX) call through the gateway; Kamailio routes every number
to a SIPp "carrier" UAS. --case picks one part:

  destinations  national allowed; premium (+44 9, +1 900), satellite refused with 403 and the
                rule; business-hours international allowed; calls-per-minute limit; the call
                records (class, cost, verdict) in the SQLite store
  schedule      off-hours international refused at 22:00 (test clock), allowed at 10:00 on
                another gateway; refused on a configured holiday
  enforce       concurrency limit; max duration ends a running call with BYE to both sides;
                running spend ends a call and refuses the next
  ctl           ctl account lock/unlock (emergency still allowed); ctl lockdown (only
                internal and emergency); quarantine on a high-risk call: account locked, its
                live call ended, source banned, alert event
  ringing       quarantine while a call of the account still rings: the carrier gets a
                CANCEL and the caller the 487; the answers to the gateway's own CANCEL and
                BYEs are absorbed (no proxy.drop), and a refusal leaves one event only
  control       without a fraud section the same premium, high-risk and night international
                calls complete; a SIGHUP adding the section refuses them from then on
  unauthenticated  a PBX with an open dial plan (INVITEs routed without credentials):
                control, without a fraud section an unauthenticated INVITE to a premium number
                reaches the carrier; with the "unauthenticated" group it is refused with the
                PBX-shaped 407 challenge (the rule only in the event) and never routed; an allowed unauthenticated call the PBX answers is tracked
                as anonymous@<source>, ended at the group's max duration with BYE both ways,
                and raises a fraud.unauthenticated_call event (credentialed calls keep
                their path: the other cases, where the PBX challenges, cover them)
"""
import os
import signal
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import fraud, harness, scenarios, sipmsg  # noqa: E402

POLICY = """\
  dialplan:
    preset: GB
  schedule:
    timezone: UTC
%(holidays)s\
  rates:
    prefixes: {"+44": 0.01, "+33": 600}
  groups:
    default:
      allow: [national, mobile, tollfree, international]
    limited:
      allow: [national]
      limits: {calls_per_minute: 2}
    short:
      allow: [national]
      limits: {concurrent: 1, max_duration: 2s, end_at_max_duration: true}
    spender:
      allow: [national, international]
      limits: {spend_per_day: 1}
  accounts:
    - {match: "1010", group: limited}
    - {match: "1020", group: short}
    - {match: "1030", group: spender}
  actions:
    high_risk: quarantine
"""
QUARANTINE_IP = "127.0.0.6"


def policy(holidays=None):
    h = "    holidays: [%s]\n" % ", ".join('"%s"' % d for d in holidays) if holidays else ""
    return POLICY % {"holidays": h}


def user(topo, name):
    for u in topo.users:
        if u[0] == name:
            return u
    raise harness.TestFailure("no subscriber %s" % name)


def case_destinations(h, topo):
    gw = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_10H).start()
    fraud.allowed(h, topo, gw, user(topo, "1001"), fraud.NATIONAL, "national")
    fraud.refused(h, topo, gw, user(topo, "1002"), fraud.PREMIUM_GB, "class_forbidden", "prem-gb")
    fraud.refused(h, topo, gw, user(topo, "1002"), fraud.PREMIUM_US, "class_forbidden", "prem-us")
    fraud.refused(h, topo, gw, user(topo, "1002"), fraud.SATELLITE, "class_forbidden", "sat")
    fraud.allowed(h, topo, gw, user(topo, "1003"), fraud.INTL_FR, "intl-day")
    # calls_per_minute 2: the third call within the minute is refused.
    fraud.allowed(h, topo, gw, user(topo, "1010"), fraud.NATIONAL, "rate-1")
    fraud.allowed(h, topo, gw, user(topo, "1010"), fraud.NATIONAL, "rate-2")
    fraud.refused(h, topo, gw, user(topo, "1010"), fraud.NATIONAL, "calls_per_minute", "rate-3")

    # Call records: the store commits within a second.
    def records():
        rows = gw.rows("SELECT account, dest, dest_class, status, verdict, rule, "
                       "cost_milli IS NOT NULL FROM calls")
        return rows if (("1002", fraud.PREMIUM_GB, "premium", 403, "reject",
                         "fraud.class_forbidden", 1) in rows and
                        ("1001", "+442079460000", "national", 200, "allow", None, 1) in rows and
                        ("1003", fraud.INTL_FR, "international", 200, "alert",
                         "fraud.first_international", 1) in rows) else None
    rows = harness.wait_until(records, 5, interval=0.2, what="call records in the store")
    h.log("calls: %r" % rows)

    def cost_events():
        lines = [r[0] for r in gw.rows("SELECT line FROM events") if "fraud.call.end" in r[0]]
        ok = any('"verdict":"reject"' in x and '"class":"premium"' in x for x in lines) and \
            any('"class":"national"' in x and '"cost":' in x for x in lines)
        return lines if ok else None
    harness.wait_until(cost_events, 5, interval=0.2, what="call events with cost and verdict")
    gw.finish()


def case_schedule(h, topo):
    night = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_22H, name="gw-night").start()
    fraud.refused(h, topo, night, user(topo, "1004"), fraud.INTL_FR, "off_hours", "intl-night")
    fraud.allowed(h, topo, night, user(topo, "1004"), fraud.NATIONAL, "national-night")
    night.finish()
    day = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_10H, name="gw-day").start()
    fraud.allowed(h, topo, day, user(topo, "1004"), fraud.INTL_FR, "intl-day")
    day.finish()
    hol = fraud.FraudGateway(h, topo, policy(holidays=["11-25"]), when=fraud.WED_10H,
                             name="gw-holiday").start()
    fraud.refused(h, topo, hol, user(topo, "1004"), fraud.INTL_FR, "off_hours", "intl-holiday")
    hol.finish()


def case_enforce(h, topo):
    gw = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_10H).start()

    # Concurrency 1 and max duration 2 s (account 1020).
    caller, uas = fraud.held_call(h, topo, gw, user(topo, "1020"), fraud.NATIONAL, "long")
    fraud.refused(h, topo, gw, user(topo, "1020"), fraud.NATIONAL, "concurrent", "second")
    fraud.expect_ended_by_gateway(caller, uas, "max_duration", "max duration")

    # Running spend (account 1030, +33 at 600 a minute, 1 a day): ended, then refused.
    caller, uas = fraud.held_call(h, topo, gw, user(topo, "1030"), fraud.INTL_FR, "spend")
    fraud.expect_ended_by_gateway(caller, uas, "spend_per_day", "spend")
    fraud.refused(h, topo, gw, user(topo, "1030"), fraud.INTL_FR, "spend_per_day", "spend-2")
    # The phones' 200s to the gateway's BYEs are the gateway's own answers.
    fraud.no_stray_drops(gw)
    gw.finish()


def case_ctl(h, topo):
    gw = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_10H).start()

    # Operator lock: refused except emergency; unlock: allowed again.
    gw.ctl("account", "lock", "1005", "suspected compromise")
    fraud.refused(h, topo, gw, user(topo, "1005"), fraud.NATIONAL, "account_locked", "locked")
    fraud.allowed(h, topo, gw, user(topo, "1005"), fraud.EMERGENCY, "locked-999")
    harness.check("1005 locked" in gw.ctl("account", "list"), "account list lacks the lock")
    gw.ctl("account", "unlock", "1005")
    fraud.allowed(h, topo, gw, user(topo, "1005"), fraud.NATIONAL, "unlocked")

    # Global lockdown: only internal and emergency calls.
    gw.ctl("lockdown", "on")
    fraud.refused(h, topo, gw, user(topo, "1006"), fraud.NATIONAL, "lockdown", "lockdown")
    fraud.allowed(h, topo, gw, user(topo, "1006"), fraud.INTERNAL, "lockdown-int")
    fraud.allowed(h, topo, gw, user(topo, "1006"), fraud.EMERGENCY, "lockdown-999")
    gw.ctl("lockdown", "off")
    fraud.allowed(h, topo, gw, user(topo, "1006"), fraud.NATIONAL, "lockdown-off")

    # Quarantine: a live call, then a high-risk call from the same account and source.
    q = user(topo, "1040")
    caller, uas = fraud.held_call(h, topo, gw, q, fraud.NATIONAL, "q-live",
                                  local_ip=QUARANTINE_IP)
    fraud.refused(h, topo, gw, q, fraud.HIGH_RISK, "high_risk", "q-risk", local_ip=QUARANTINE_IP)
    fraud.expect_ended_by_gateway(caller, uas, "account_locked", "quarantine")
    harness.check("1040 quarantined" in gw.ctl("account", "list"),
                  "quarantined account not shown as such")
    harness.check(QUARANTINE_IP in gw.ctl("ban", "list"), "quarantine did not ban the source")
    harness.wait_until(lambda: any(e.get("type", "").startswith("fraud") and
                                   "quarantine" in str(e) for e in gw.events()),
                       5, interval=0.2, what="a fraud quarantine alert event")
    # The banned source gets nothing through any more (an OPTIONS from it goes unanswered,
    # the same OPTIONS from another phone address is answered); the other phones still call.
    ip, port = gw.addr("udp")
    probe = sipmsg.options(ip, port, "udp", local=(QUARANTINE_IP, 0))
    harness.check(sipmsg.exchange(ip, port, probe, "udp", timeout=1.0,
                                  src=(QUARANTINE_IP, 0)) == b"",
                  "the quarantined source is still answered")
    probe = sipmsg.options(ip, port, "udp", local=(scenarios.PHONE_IP, 0))
    harness.check(sipmsg.exchange(ip, port, probe, "udp", timeout=1.0,
                                  src=(scenarios.PHONE_IP, 0)) != b"",
                  "control: an OPTIONS from another phone address is not answered")
    fraud.allowed(h, topo, gw, user(topo, "1007"), fraud.NATIONAL, "after-quarantine")
    gw.finish()


def case_ringing(h, topo):
    gw = fraud.FraudGateway(h, topo, policy(), when=fraud.WED_10H).start()
    q = user(topo, "1040")
    caller, uas = fraud.ringing_call(h, topo, gw, q, fraud.NATIONAL, "q-ringing",
                                     local_ip=QUARANTINE_IP)
    fraud.refused(h, topo, gw, q, fraud.HIGH_RISK, "high_risk", "q-risk", local_ip=QUARANTINE_IP)
    fraud.expect_cancelled_by_gateway(caller, uas, "quarantine while ringing")
    harness.check("1040 quarantined" in gw.ctl("account", "list"),
                  "quarantined account not shown as such")
    fraud.no_stray_drops(gw)
    fraud.allowed(h, topo, gw, user(topo, "1007"), fraud.NATIONAL, "after-quarantine")
    gw.finish()


def case_control(h, topo):
    gw = fraud.FraudGateway(h, topo, None, when=fraud.WED_22H, name="gw-nofraud").start()
    fraud.allowed(h, topo, gw, user(topo, "1002"), fraud.PREMIUM_GB, "ctl-premium")
    fraud.allowed(h, topo, gw, user(topo, "1002"), fraud.HIGH_RISK, "ctl-risk")
    fraud.allowed(h, topo, gw, user(topo, "1004"), fraud.INTL_FR, "ctl-night")
    # SIGHUP with a fraud section added turns the policy on in the running gateway.
    with open(gw.config_path, "a") as f:
        f.write("fraud:\n" + policy())
    gw.proc.popen.send_signal(signal.SIGHUP)
    harness.wait_until(lambda: "fraud policy on" in gw.log(), 5, interval=0.1,
                       what="the fraud policy to be enabled by the reload")
    fraud.refused(h, topo, gw, user(topo, "1002"), fraud.PREMIUM_GB, "class_forbidden",
                  "reload-premium")
    fraud.refused(h, topo, gw, user(topo, "1004"), fraud.INTL_FR, "off_hours", "reload-night")
    gw.finish()


UNAUTH_POLICY = """\
  dialplan:
    preset: GB
  groups:
    default:
      allow: [national, mobile, tollfree, international]
    unauthenticated:
      allow: [national]
      limits: {concurrent: 1, max_duration: 2s, end_at_max_duration: true}
"""


def case_unauthenticated(h, topo):
    # Control: the open dial plan routes a premium call from anyone, gateway or not.
    gw = fraud.FraudGateway(h, topo, None, when=fraud.WED_10H, name="gw-nofraud").start()
    fraud.anon_call(h, topo, gw, fraud.PREMIUM_GB, "ctl-anon-premium")
    gw.finish()

    gw = fraud.FraudGateway(h, topo, UNAUTH_POLICY, when=fraud.WED_10H).start()
    fraud.anon_refused(h, topo, gw, fraud.PREMIUM_GB, "class_forbidden", "anon-premium")
    fraud.anon_refused(h, topo, gw, fraud.HIGH_RISK, "high_risk", "anon-risk")
    fraud.anon_refused(h, topo, gw, fraud.INTL_FR, "class_forbidden", "anon-intl")
    # Allowed by the group, answered without authentication: tracked, limited, alerted.
    caller, uas = fraud.anon_held_call(h, topo, gw, fraud.NATIONAL, "anon-long")
    fraud.anon_refused(h, topo, gw, fraud.NATIONAL, "concurrent", "anon-second")
    fraud.expect_ended_by_gateway(caller, uas, "max_duration", "unauthenticated max duration")
    account = "anonymous@%s" % scenarios.PHONE_IP

    def alert():
        for e in gw.events():
            if e.get("type") == "fraud.unauthenticated_call" and account in str(e):
                return e
        return None
    ev = harness.wait_until(alert, 5, interval=0.2, what="a fraud.unauthenticated_call event")
    h.log("alert: %r" % ev)

    def records():
        rows = gw.rows("SELECT account, dest, status FROM calls")
        return rows if ((account, fraud.PREMIUM_GB, 403) in rows and
                        (account, "+442079460000", 200) in rows) else None
    h.log("calls: %r" % (harness.wait_until(records, 5, interval=0.2,
                                            what="unauthenticated call records"),))
    gw.finish()


CASES = {"destinations": case_destinations, "schedule": case_schedule,
         "enforce": case_enforce, "ctl": case_ctl, "control": case_control,
         "ringing": case_ringing,
         "unauthenticated": case_unauthenticated}


def main(h):
    topo = fraud.topology(h, open_dialplan=h.args.case == "unauthenticated")
    CASES[h.args.case](h, topo)


harness.run(main, extra_args=[(["--case"], {"required": True, "choices": sorted(CASES)})],
            timeout=150)
