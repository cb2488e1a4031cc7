#!/usr/bin/python3
"""bench_pyspf.py - pyspf (Debian python3-spf) on the RFC 7208 suite.

CONTRACT
    Run with Debian's /usr/bin/python3.  pyspf's DNS entry point
    spf.DNSLookup is replaced by an in-memory mock built from the suite's
    zone data (suite_data.py conventions): a query returns every record of
    the name, as pydns does, and pyspf keeps what it needs; a bare TIMEOUT
    entry raises TempError unless records of the asked type come first;
    missing names do not exist (names under "error." time out, as in
    pyspf's own driver).  No real DNS is used.

    --check           evaluates every case once and prints one line per
                      case: "check ID ok|FAIL RESULT".
    --time SECONDS --cases FILE
                      evaluates the cases listed in FILE (one id a line)
                      in a loop for SECONDS after one warm-up pass and
                      prints "rate EVALS_PER_S evals N seconds S
                      mismatches M" (M counts results that differ from
                      the untimed first pass; it should be 0).
    The timed loop excludes YAML loading and zone building; one
    evaluation is spf.query(...) + set_default_explanation + check().
"""

import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_data  # noqa: E402
import spf  # noqa: E402

OLD_RESULTS = {"unknown": "permerror", "error": "temperror"}


class MockDNS:
    """In-memory stand-in for spf.DNSLookup, one scenario at a time."""

    def __init__(self):
        self.zone = {}
        self.memo = {}

    def use(self, scenario_memo, zone):
        """Selects the zone (and its answer memo) of one scenario."""
        self.zone = zone
        self.memo = scenario_memo

    def answer(self, name, qtype):
        """Computes the answer list for (name, qtype) or None = timeout."""
        entries = self.zone.get(name.lower())
        if entries is None:
            return None if name.lower().startswith("error.") else []
        out, typed = [], False
        for ent in entries:
            if ent == "TIMEOUT":
                if not typed:
                    return None
                break
            rtype, value = ent
            if rtype == qtype:
                typed = True
            if value == "TIMEOUT":
                if rtype == qtype:
                    return None
                continue
            if rtype == "AAAA":
                value = socket.inet_pton(socket.AF_INET6, value)
            elif rtype == "MX":
                value = list(value)
            out.append(((name, rtype), value))
        return out

    def lookup(self, name, qtype, strict=True, timeout=None):
        """spf.DNSLookup replacement (pydns-style label handling)."""
        labels = [lab for lab in name.split(".") if lab]
        if any(len(lab) > 63 for lab in labels):
            raise spf.TempError("DNS label too long")
        name = ".".join(labels)
        key = (name, qtype)
        if key not in self.memo:
            self.memo[key] = self.answer(name, qtype)
        ans = self.memo[key]
        if ans is None:
            raise spf.TempError("DNS timeout")
        return ans


def evaluate(case):
    """One pyspf evaluation as a caller would run it: (result, exp)."""
    q = spf.query(i=case.host, s=case.mailfrom, h=case.helo,
                  strict=case.strict)
    q.set_default_explanation("DEFAULT")
    res, _code, exp = q.check()
    return OLD_RESULTS.get(res, res), exp


def passes(case, res, exp):
    """The suite's verdict on one result."""
    if res not in case.results:
        return False
    return case.explanation is None or case.explanation == exp


def load_work(path):
    """All cases as (memo, zone, case) in suite order."""
    work = []
    for sc in suite_data.load(path):
        memo = {}
        for c in sc.cases:
            work.append((memo, sc.zone, c))
    return work


def run_check(work, mock):
    """Evaluates each case once and prints its line."""
    ok = 0
    for memo, zone, case in work:
        mock.use(memo, zone)
        try:
            res, exp = evaluate(case)
        except Exception as x:  # a crash is a failed case, not a stop
            res, exp = "crash:" + type(x).__name__, None
        good = passes(case, res, exp)
        ok += good
        print("check %s %s %s" % (case.id, "ok" if good else "FAIL", res))
    print("summary pyspf %d/%d" % (ok, len(work)))


def run_time(work, ids_path, seconds):
    """Times the listed cases in a loop and prints the rate line."""
    with open(ids_path, encoding="utf-8") as fp:
        wanted = [line.strip() for line in fp if line.strip()]
    by_id = {c.id: (m, z, c) for m, z, c in work}
    missing = [i for i in wanted if i not in by_id]
    if missing or not wanted:
        sys.exit("bench_pyspf: unknown or no case ids: %r" % missing[:5])
    sel = [by_id[i] for i in wanted]
    mock = MOCK
    expected = []
    for memo, zone, case in sel:            # warm-up, untimed
        mock.use(memo, zone)
        expected.append(evaluate(case)[0])
    n, mism = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for (memo, zone, case), want in zip(sel, expected):
            mock.use(memo, zone)
            if evaluate(case)[0] != want:
                mism += 1
        n += len(sel)
        now = time.perf_counter()
        if now >= deadline:
            break
    el = now - start
    print("rate %.1f evals %d seconds %.3f mismatches %d"
          % (n / el, n, el, mism))


MOCK = MockDNS()


def main():
    """Command line entry point."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--time", type=float)
    ap.add_argument("--cases")
    args = ap.parse_args()
    spf.DNSLookup = MOCK.lookup
    work = load_work(args.suite)
    if args.check:
        run_check(work, MOCK)
    elif args.time and args.cases:
        run_time(work, args.cases, args.time)
    else:
        ap.error("need --check or --time SECONDS --cases FILE")


if __name__ == "__main__":
    main()
