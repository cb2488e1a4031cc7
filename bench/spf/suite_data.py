"""suite_data.py - the RFC 7208 suite as plain data for the SPF benchmark.

CONTRACT
    load(path) reads the openspf YAML suite (Debian python3-yaml) and
    returns a list of Scenario objects.  Each scenario's zone follows the
    suite README's driver conventions: an SPF record is also published as
    TXT unless the name lists a TXT record (or "TXT: NONE"); NONE values
    are dropped; a bare TIMEOUT entry stays in its place in the list, and
    the TXT copies go after it (as in pyspf's driver, so never reached).

    resolve(zone, name, qtype) answers one question the way a recursive
    resolver would (CNAME chains followed, loops -> servfail) and is used
    to export a flat table for libspf2, whose zone layer knows no CNAME.

    write_flat(scenarios, path) writes that table in the line format read
    by bench_libspf2.c (see the FORMAT section below).

FORMAT (one record per line, fields separated by one space)
    scenario N
    rr NAME TYPE VALUE          TYPE in A AAAA MX PTR TXT SPF
    status NAME TYPE STATUS     STATUS in nodata timeout servfail
    case ID HOST MAILFROM HELO RESULTS EXPLANATION
    Every field is percent-encoded: bytes outside [A-Za-z0-9._:@/=+,!?~]
    become %XX.  "-" alone is the empty string, "*" alone means absent.
    RESULTS is a comma-separated list of acceptable results.
    Names missing from the table are NXDOMAIN.
"""

import yaml

QTYPES = ("A", "AAAA", "MX", "PTR", "TXT", "SPF")
CNAME_MAX = 8
SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           b"0123456789._:@/=+,!?~")


class Case:
    """One test case of the suite."""

    def __init__(self, ident, data):
        self.id = ident
        self.host = str(data["host"])
        self.mailfrom = str(data.get("mailfrom") or "")
        self.helo = str(data.get("helo") or "")
        res = data["result"]
        self.results = [res] if isinstance(res, str) else list(res)
        exp = data.get("explanation")
        self.explanation = None if exp is None else str(exp)
        self.strict = data.get("strict", True)


class Scenario:
    """A zone (lower-case name -> list of entries) and its cases."""

    def __init__(self, index, zone, cases):
        self.index = index
        self.zone = zone
        self.cases = cases


def _txt_strings(value):
    """A TXT/SPF rdata as the tuple of its character-strings."""
    if isinstance(value, list):
        return tuple(str(s) for s in value)
    return (str(value),)


def _entries(records):
    """Applies the SPF-to-TXT copy and NONE conventions to one name."""
    has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
    out, copies = [], []
    for rec in records:
        if not isinstance(rec, dict):
            out.append(str(rec))            # bare TIMEOUT
            continue
        for rtype, value in rec.items():
            if value == "NONE":
                continue
            if value == "TIMEOUT":
                out.append((rtype, "TIMEOUT"))
                continue
            if rtype in ("TXT", "SPF"):
                out.append((rtype, _txt_strings(value)))
                if rtype == "SPF" and not has_txt:
                    copies.append(("TXT", _txt_strings(value)))
            elif rtype == "MX":
                out.append((rtype, (int(value[0]), str(value[1]))))
            else:
                out.append((rtype, str(value)))
    # Like pyspf's driver, the TXT copies come last (after any TIMEOUT).
    return out + copies


def load(path):
    """Reads the YAML suite into a list of Scenario."""
    scenarios = []
    with open(path, "rb") as fp:
        for index, doc in enumerate(yaml.safe_load_all(fp)):
            zone = {}
            for name, records in (doc.get("zonedata") or {}).items():
                key = str(name).lower().rstrip(".")
                zone.setdefault(key, []).extend(_entries(records))
            cases = [Case(str(k), v) for k, v in doc["tests"].items()]
            scenarios.append(Scenario(index, zone, cases))
    return scenarios


def _lookup_one(zone, name, qtype):
    """One name without CNAME following: (status, values, cname)."""
    entries = zone.get(name)
    if entries is None:
        return "nxdomain", [], None
    values, cname, seen_type = [], None, False
    for ent in entries:
        if ent == "TIMEOUT":
            if not seen_type:
                return "timeout", [], None
            break
        rtype, value = ent
        if rtype == qtype:
            seen_type = True
            if value == "TIMEOUT":
                return "timeout", [], None
            values.append(value)
        elif rtype == "CNAME" and value != "TIMEOUT":
            cname = value.lower().rstrip(".")
    if values:
        return "answer", values, None
    return "nodata", [], cname


def resolve(zone, name, qtype):
    """Answers (name, qtype) like a recursive resolver: (status, values)."""
    name = name.lower().rstrip(".")
    seen = set()
    for _ in range(CNAME_MAX):
        status, values, cname = _lookup_one(zone, name, qtype)
        if cname is None:
            return status, values
        if cname in seen or cname == name:
            return "servfail", []
        seen.add(name)
        name = cname
    return "servfail", []


def enc(text):
    """Percent-encodes one field (see FORMAT)."""
    if text is None:
        return "*"
    raw = text.encode("utf-8", "surrogateescape")
    if not raw:
        return "-"
    return "".join(chr(b) if b in SAFE else "%%%02X" % b for b in raw)


def _rdata_text(qtype, value):
    """One record's value in presentation form for libspf2's zone layer."""
    if qtype in ("TXT", "SPF"):
        return "".join(value)
    if qtype == "MX":
        return "%d %s" % (value[0], value[1])
    return value


def write_flat(scenarios, path):
    """Writes every scenario as the flat table described in FORMAT."""
    with open(path, "w", encoding="ascii") as out:
        for sc in scenarios:
            out.write("scenario %d\n" % sc.index)
            for name in sc.zone:
                for qtype in QTYPES:
                    status, values = resolve(sc.zone, name, qtype)
                    if status == "answer":
                        for v in values:
                            out.write("rr %s %s %s\n" % (
                                enc(name), qtype, enc(_rdata_text(qtype, v))))
                    elif status != "nxdomain":
                        out.write("status %s %s %s\n" % (
                            enc(name), qtype, status))
            for c in sc.cases:
                out.write("case %s %s %s %s %s %s\n" % (
                    enc(c.id), enc(c.host), enc(c.mailfrom), enc(c.helo),
                    enc(",".join(c.results)), enc(c.explanation)))
