#!/usr/bin/python3
"""prom_check.py - spfgate's metrics text against the reference parser.

Usage: /usr/bin/python3 prom_check.py PATH/TO/metrics_test

Runs `metrics_test --print` (fixed values set through the C API from two
worker slots) and parses its output with the parser of the official
Prometheus Python client (Debian's python3-prometheus-client, installed
with apt-get when missing).  Checks that the text parses, that every
family has the documented type and help, that exactly the documented
series exist, and that each holds the value the C side set (written here
by hand, not taken from the code under test).
"""
import subprocess
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("prom_check: installing python3-prometheus-client", file=sys.stderr)
    APT_ENV = {"DEBIAN_FRONTEND": "noninteractive",
               "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    INSTALL = ["apt-get", "install", "-y", "-q", "python3-prometheus-client"]
    if subprocess.run(INSTALL, stdout=subprocess.DEVNULL,
                      env=APT_ENV).returncode != 0:
        # Package lists may be missing on a fresh machine.
        subprocess.run(["apt-get", "update", "-q"], check=True,
                       stdout=subprocess.DEVNULL, env=APT_ENV)
        subprocess.run(INSTALL, check=True, stdout=subprocess.DEVNULL,
                       env=APT_ENV)
    from prometheus_client.parser import text_string_to_metric_families

# family (as the parser names it) -> (type, label key or None, label values)
FAMILIES = {
    "spfgate_connections": ("counter", None, [None]),
    "spfgate_connections_refused": (
        "counter", "reason",
        ["max_connections", "max_connections_per_ip", "out_of_resources",
         "proxy_protocol", "pregreet"]),
    "spfgate_sessions": ("gauge", None, [None]),
    "spfgate_spf_results": (
        "counter", "result",
        ["none", "neutral", "pass", "fail", "softfail", "temperror",
         "permerror"]),
    "spfgate_transactions": (
        "counter", "outcome",
        ["delivered", "refused_spf", "refused_by_backend", "backend_failed",
         "too_big", "bare_newline"]),
    "spfgate_backend_failures": ("counter", None, [None]),
    "spfgate_backend_connections_reused": ("counter", None, [None]),
    "spfgate_backend_connections_idle": ("gauge", None, [None]),
    "spfgate_tls_sessions": ("counter", None, [None]),
    "spfgate_srs_rewrites": ("counter", None, [None]),
    "spfgate_srs_reversals": (
        "counter", "outcome",
        ["reversed", "invalid", "rate_limited", "refused"]),
}

# What `metrics_test --print` sets; every other series must be 0.
SET = {
    ("spfgate_connections_total", None): 7,
    ("spfgate_connections_refused_total", "max_connections_per_ip"): 2,
    ("spfgate_sessions", None): 3,
    ("spfgate_spf_results_total", "fail"): 4,
    ("spfgate_transactions_total", "delivered"): 9,
    ("spfgate_srs_reversals_total", "rate_limited"): 1,
}

failures = 0
passed = 0


def check(ok, what):
    """Counts one assertion, printing it when it fails."""
    global failures, passed
    if ok:
        passed += 1
    else:
        failures += 1
        print("FAIL", what, file=sys.stderr)


def main():
    text = subprocess.run([sys.argv[1], "--print"], check=True,
                          capture_output=True, text=True,
                          timeout=30).stdout
    check(text.endswith("\n"), "text ends with a newline")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    check(sorted(families) == sorted(FAMILIES),
          "families: got %s" % sorted(families))
    seen = set()
    for name, (mtype, label, values) in FAMILIES.items():
        fam = families.get(name)
        if fam is None:
            continue
        check(fam.type == mtype, "%s type %s, want %s" % (name, fam.type, mtype))
        check(len(fam.documentation) > 0, "%s has a help text" % name)
        sample_name = name + "_total" if mtype == "counter" else name
        got = {}
        for s in fam.samples:
            check(s.name == sample_name, "sample name %s" % s.name)
            keys = sorted(s.labels)
            check(keys == ([label] if label else []),
                  "%s labels %s" % (name, keys))
            key = s.labels.get(label) if label else None
            check(key not in got, "%s{%s} appears once" % (name, key))
            got[key] = s.value
        check(sorted(got, key=str) == sorted(values, key=str),
              "%s label values %s" % (name, sorted(got, key=str)))
        for key, value in got.items():
            want = SET.get((sample_name, key), 0)
            seen.add((sample_name, key))
            check(value == want,
                  "%s{%s} = %s, want %s" % (sample_name, key, value, want))
    check(all(k in seen for k in SET), "every value set was seen")
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
