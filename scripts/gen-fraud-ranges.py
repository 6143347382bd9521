#!/usr/bin/env python3
"""Regenerate data/fraud/ranges.txt from libphonenumber's PhoneNumberMetadata.xml.

Usage: scripts/gen-fraud-ranges.py [METADATA.xml] > data/fraud/ranges.txt

libphonenumber describes each region's number types (mobile, premiumRate, sharedCost...)
as regular expressions over the national significant number. pbxguard classifies by
longest digit prefix, so each expression is expanded into the set of literal digit
prefixes it can start with, up to MAX_DEPTH digits; the expansion stops at the first
wildcard (\\d) or variable-length repetition. The result is an over-approximation of
each range at prefix granularity, which is what a dial policy needs.

Output lines: "<e164-prefix> <tag> <region>", tag one of cc, mobile, tollfree, premium,
shared, nongeo, satellite. Only python3's standard library is used.
"""
import os
import sys
import xml.etree.ElementTree as ET

MAX_DEPTH = 6  # national digits kept in a range prefix
MAX_SET = 4000  # prefixes per expression before depth is reduced

# libphonenumber type -> pbxguard tag. Personal numbers (UK 070), UAN, VoIP and pager
# ranges are reachable worldwide yet not tied to a place: "nongeo".
TYPE_TAGS = {
    "premiumRate": "premium",
    "sharedCost": "shared",
    "personalNumber": "nongeo",
    "uan": "nongeo",
    "voip": "nongeo",
    "pager": "nongeo",
    "tollFree": "tollfree",
    "mobile": "mobile",
}
# When two types claim the same prefix, the costlier one wins.
TAG_RANK = {"premium": 6, "satellite": 5, "shared": 4, "nongeo": 3, "mobile": 2, "tollfree": 1}

# Non-geographic country codes (region "001"): ITU-T E.164 assignments.
NONGEO_CC = {
    "800": "tollfree",  # UIFN international freephone
    "808": "shared",  # international shared cost
    "870": "satellite",  # Inmarsat
    "878": "nongeo",  # universal personal telecommunications
    "881": "satellite",  # global mobile satellite systems (Iridium, Globalstar...)
    "882": "nongeo",  # international networks
    "883": "nongeo",  # international networks
    "888": "nongeo",  # OCHA disaster relief
    "979": "premium",  # international premium rate
}


class Parser:
    """Expands a (small) regular expression over digits into literal prefixes."""

    def __init__(self, text, depth):
        self.s = "".join(text.split())
        self.i = 0
        self.depth = depth

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def alternation(self):
        out = self.sequence()
        while self.peek() == "|":
            self.i += 1
            out |= self.sequence()
        return out

    def sequence(self):
        # A set of (prefix, open): open prefixes may still be extended.
        cur = {("", True)}
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            atom = self.quantified(atom)
            nxt = set()
            for p, is_open in cur:
                if not is_open:
                    nxt.add((p, False))
                    continue
                for a, a_open in atom:
                    q = p + a
                    if len(q) >= self.depth:
                        nxt.add((q[: self.depth], False))
                    else:
                        nxt.add((q, a_open))
            cur = nxt
            if len(cur) > MAX_SET:
                raise OverflowError
        return cur

    def atom(self):
        c = self.peek()
        if c == "(":
            self.i += 1
            if self.s.startswith("?:", self.i):
                self.i += 2
            inner = self.alternation()
            if self.peek() != ")":
                raise ValueError("unbalanced group in " + self.s)
            self.i += 1
            return inner
        if c == "[":
            end = self.s.index("]", self.i)
            body = self.s[self.i + 1 : end]
            self.i = end + 1
            digits = set()
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    for d in range(int(body[k]), int(body[k + 2]) + 1):
                        digits.add(str(d))
                    k += 3
                elif body.startswith("\\d", k):
                    digits.update("0123456789")
                    k += 2
                else:
                    digits.add(body[k])
                    k += 1
            return {(d, True) for d in digits}
        if c == "\\":
            self.i += 2
            if self.s[self.i - 1] == "d":
                return {("", False)}  # any digit: the literal prefix ends here
            raise ValueError("escape in " + self.s)
        if c.isdigit():
            self.i += 1
            return {(c, True)}
        raise ValueError("unexpected %r in %s" % (c, self.s))

    def quantified(self, atom):
        c = self.peek()
        if c == "?":
            self.i += 1
            return atom | {("", True)}
        if c == "{":
            end = self.s.index("}", self.i)
            spec = self.s[self.i + 1 : end]
            self.i = end + 1
            lo, _, hi = spec.partition(",")
            lo = int(lo)
            variable = _ != "" and hi != lo
            out = {("", True)}
            for _n in range(min(lo, self.depth)):
                out = {(p + a if o else p, o and ao) for p, o in out for a, ao in atom}
                out = {(p[: self.depth], o and len(p) < self.depth) for p, o in out}
                if len(out) > MAX_SET:
                    raise OverflowError
            if variable:
                out = {(p, False) for p, _o in out}
            return out
        return atom


def expand(pattern):
    for depth in range(MAX_DEPTH, 0, -1):
        try:
            p = Parser(pattern, depth)
            res = p.alternation()
            return {s for s, _o in res if s}
        except OverflowError:
            continue
    return set()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "../../shared/data/libphonenumber/libphonenumber-PhoneNumberMetadata.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        sys.exit("gen-fraud-ranges: %s: %s" % (path, e))
    ccs = {}
    ranges = {}

    def put(prefix, tag, region):
        old = ranges.get(prefix)
        if old is None or TAG_RANK[tag] > TAG_RANK[old[0]]:
            ranges[prefix] = (tag, region)

    for t in root.iter("territory"):
        region = t.get("id")
        cc = t.get("countryCode")
        if region == "001":
            ccs[cc] = "001"
            put(cc, NONGEO_CC.get(cc, "nongeo"), "001")
            continue
        lead = t.get("leadingDigits")
        if lead:
            for p in expand(lead):
                ccs.setdefault(cc + p, region)
        elif t.get("mainCountryForCode") == "true" or cc not in ccs:
            ccs[cc] = region
        fixed = t.find("fixedLine/nationalNumberPattern")
        fixed_text = "".join(fixed.text.split()) if fixed is not None and fixed.text else ""
        for child in t:
            tag = TYPE_TAGS.get(child.tag)
            if not tag:
                continue
            pat = child.find("nationalNumberPattern")
            if pat is None or not pat.text:
                continue
            # Where mobile and fixed numbers share one pattern (NANP), the range says
            # nothing about the kind of line: leave it geographic.
            if tag == "mobile" and "".join(pat.text.split()) == fixed_text:
                continue
            for p in expand(pat.text):
                put(cc + p, tag, region)

    # Drop a range whose nearest shorter range says the same thing.
    def redundant(prefix, val, table):
        for k in range(len(prefix) - 1, 0, -1):
            up = table.get(prefix[:k])
            if up is not None:
                return up == val
        return False

    out = []
    for p in sorted(ccs):
        out.append("%s cc %s" % (p, ccs[p]))
    for p in sorted(ranges):
        if not redundant(p, ranges[p], ranges):
            out.append("%s %s %s" % (p, ranges[p][0], ranges[p][1]))

    print("# pbxguard fraud ranges v1: <e164-prefix> <tag> <region>")
    print("# Generated by scripts/gen-fraud-ranges.py from libphonenumber's")
    print("# resources/PhoneNumberMetadata.xml (Apache-2.0, see data/fraud/SOURCES.md).")
    print("# tags: cc (country of a prefix), mobile, tollfree, premium, shared, nongeo, satellite")
    for line in out:
        print(line)


if __name__ == "__main__":
    main()
