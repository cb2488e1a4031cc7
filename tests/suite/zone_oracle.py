#!/usr/bin/python3
"""zone_oracle.py - expected DNS answers for every zone of a suite file.

Usage: /usr/bin/python3 zone_oracle.py SUITE.YML > expected.tsv

An independent model of the mock DNS described in the suite's README
(and pyspf's test/testspf.py), written from that text and not from
spf_zone.c / suite.c.  For every scenario it asks every zonedata name
(as written, mixed case), every CNAME target and two names that do not
exist, for the types A AAAA MX PTR TXT, and prints
"SCENARIO<TAB>NAME<TAB>TYPE<TAB>STATUS<TAB>RDATA" with RDATA the records
in hex ("." for an empty one).  suite_dump prints the same lines from the
C loader's zones; zone_oracle.sh compares the two.
"""
import socket
import struct
import sys

import yaml

TYPES = ["A", "AAAA", "MX", "PTR", "TXT"]
CNAME_HOPS = 8


def wire_name(text):
    """Uncompressed wire form of a presentation name (case kept)."""
    if text.endswith("."):
        text = text[:-1]
    out = b""
    if text:
        for label in text.split("."):
            raw = label.encode("utf-8")
            assert 1 <= len(raw) <= 63, text
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def txt_rdata(value):
    """One TXT record: a string or a list of strings, split at 255."""
    strings = [value] if isinstance(value, str) else list(value)
    out = b""
    for s in strings:
        raw = s.encode("utf-8")
        pieces = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
        for p in pieces:
            out += bytes([len(p)]) + p
    return out


def rdata(rtype, value):
    """Wire rdata of one A/AAAA/MX/PTR record."""
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "MX":
        return struct.pack(">H", int(value[0])) + wire_name(str(value[1]))
    if rtype == "PTR":
        return wire_name(value)
    raise ValueError(rtype)


class Node:
    """What the README says one zonedata name serves."""

    def __init__(self, entries):
        self.records = {t: [] for t in TYPES}
        self.type_timeout = set()
        self.any_timeout = False
        self.cname = None
        explicit_txt = any(isinstance(e, dict) and "TXT" in e
                           for e in entries)
        spf_copies = []
        for e in entries:
            if e == "TIMEOUT":
                # Records listed later, SPF copies included, never answer.
                self.any_timeout = True
                return
            for rtype, value in e.items():
                if rtype == "SPF":
                    spf_copies.append(value)
                    continue
                self.add(rtype, value)
        if not explicit_txt:
            for value in spf_copies:
                self.add("TXT", value)

    def add(self, rtype, value):
        if value == "NONE":
            return
        if value == "TIMEOUT":
            self.type_timeout.add(rtype)
        elif rtype == "CNAME":
            self.cname = value
        elif rtype == "TXT":
            self.records["TXT"].append(txt_rdata(value))
        else:
            self.records[rtype].append(rdata(rtype, value))


def key(name):
    name = name.lower()
    return name[:-1] if name.endswith(".") else name


def answer(zone, name, qtype):
    """(status, [rdata]) for one question."""
    seen = []
    node = zone.get(key(name))
    while node is not None:
        if qtype in node.type_timeout:
            return "TIMEOUT", []
        if node.cname is None:
            break
        if node in seen or len(seen) == CNAME_HOPS:
            return "SERVFAIL", []
        seen.append(node)
        node = zone.get(key(node.cname))
    if node is None:
        return "NXDOMAIN", []
    if node.records[qtype]:
        return "ANSWER", node.records[qtype]
    if node.any_timeout:
        return "TIMEOUT", []
    return "NODATA", []


def main():
    out = sys.stdout.buffer
    with open(sys.argv[1], "rb") as fp:
        docs = list(yaml.safe_load_all(fp))
    for idx, doc in enumerate(docs):
        zonedata = doc.get("zonedata") or {}
        zone = {key(n): Node(e) for n, e in zonedata.items()}
        names = list(zonedata)
        names += [n.cname for n in zone.values() if n.cname]
        names += ["no-such-name.example", "deeper." + names[0]
                  if names else "x.example"]
        for name in names:
            for qtype in TYPES:
                status, recs = answer(zone, name, qtype)
                data = " ".join(r.hex() if r else "." for r in recs)
                line = "%d\t%s\t%s\t%s\t%s\n" % (idx, name, qtype, status,
                                                 data)
                out.write(line.encode("utf-8"))


if __name__ == "__main__":
    main()
