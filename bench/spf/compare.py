#!/usr/bin/python3
"""compare.py - runs the three SPF harnesses and prints the comparison.

CONTRACT
    Run by bench/spf/run.sh with Debian's /usr/bin/python3.  Steps:
      1. exports the suite's zones as a flat table for libspf2
         (suite_data.write_flat);
      2. runs every case once with each implementation (--check) and
         records which cases it passes (result in the acceptable list,
         explanation equal when the suite gives one); all three must report
         the same case ids;
      3. builds the common sets: cases spfgate AND libspf2 pass, cases
         spfgate AND pyspf pass;
      4. for each of RUNS rounds times, pinned to one core, spfgate on all
         cases, spfgate and libspf2 on their common set, spfgate and pyspf
         on theirs (spfgate is timed once per distinct set: a common set
         equal to the whole suite reuses the "all" measurement; one
         process per measurement, the suite loaded and the zones built
         before its timed loop);
      5. prints evaluations/s (median, min, max over the rounds), the size
         of each common set, the ratio of medians spfgate/other on the same
         set, and whether the targets (>= 3x libspf2, >= 40x pyspf) are met;
         the per-round ratios (spfgate and the other timed back to back in
         the same round) are printed too, as a check on machine noise.
    Missing targets do not change the exit status; a harness that fails to
    run, reports different case ids, or whose timed results differ from its
    own untimed pass (mismatches) makes it exit 1.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import suite_data  # noqa: E402

TARGETS = {"libspf2": 3.0, "pyspf": 40.0}


def die(msg):
    """Stops the comparison with a message."""
    sys.exit("compare.py: " + msg)


class Impl:
    """How to run one implementation's harness."""

    def __init__(self, name, check_cmd, time_cmd):
        self.name = name
        self.check_cmd = check_cmd      # list
        self.time_cmd = time_cmd        # function(seconds, ids_path) -> list


def run(cmd, pin):
    """Runs a harness, optionally pinned, and returns its stdout."""
    if pin is not None:
        cmd = ["taskset", "-c", str(pin)] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", check=False)
    if proc.returncode != 0:
        die("%s exited %d:\n%s" % (" ".join(cmd), proc.returncode,
                                   proc.stderr[-2000:]))
    return proc.stdout


def check(impl, pin):
    """Runs --check; returns (ordered ids, set of passed ids, results)."""
    ids, passed, got = [], set(), {}
    for line in run(impl.check_cmd, pin).splitlines():
        parts = line.split(" ", 3)
        if parts[0] != "check" or len(parts) < 3:
            continue
        ids.append(parts[1])
        got[parts[1]] = parts[3] if len(parts) > 3 else ""
        if parts[2] == "ok":
            passed.add(parts[1])
    if not ids:
        die("%s --check printed no cases" % impl.name)
    return ids, passed, got


def time_once(impl, seconds, ids_path, pin):
    """One timed run; returns evaluations per second."""
    out = run(impl.time_cmd(seconds, ids_path), pin)
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "rate":
            if int(f[7]) != 0:
                die("%s: %s mismatches in the timed loop" % (impl.name, f[7]))
            return float(f[1])
    die("%s printed no rate line" % impl.name)
    return 0.0


def write_ids(path, order, chosen):
    """Writes the chosen ids in suite order, one per line."""
    with open(path, "w", encoding="utf-8") as fp:
        for i in order:
            if i in chosen:
                fp.write(i + "\n")


def fmt_rate(r):
    """Human form of evaluations per second."""
    if r >= 1e6:
        return "%.2f M/s" % (r / 1e6)
    if r >= 1e3:
        return "%.1f k/s" % (r / 1e3)
    return "%.0f /s" % r


def summary(rates):
    """median, min, max of a list of rates."""
    return statistics.median(rates), min(rates), max(rates)


def parse_args():
    """Command line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True,
                    help="directory holding bench_spf and bench_libspf2")
    ap.add_argument("--suite", required=True, help="rfc7208-tests.yml")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=0,
                    help="core to pin to (-1: no pinning)")
    ap.add_argument("--keep", help="keep the work files in this directory")
    return ap.parse_args()


def make_impls(args, flat):
    """The three harnesses."""
    gate = os.path.join(args.build, "bench_spf")
    lib2 = os.path.join(args.build, "bench_libspf2")
    py = ["/usr/bin/python3", os.path.join(HERE, "bench_pyspf.py"),
          "--suite", args.suite]
    for exe in (gate, lib2):
        if not os.access(exe, os.X_OK):
            die("%s not built" % exe)
    return {
        "spfgate": Impl("spfgate", [gate, "--check", args.suite],
                        lambda s, ids: [gate, "--time", str(s), "--cases",
                                        ids, args.suite]),
        "libspf2": Impl("libspf2", [lib2, "--check", flat],
                        lambda s, ids: [lib2, "--time", str(s), "--cases",
                                        ids, flat]),
        "pyspf": Impl("pyspf", py + ["--check"],
                      lambda s, ids: py + ["--time", str(s), "--cases", ids]),
    }


def main():
    """Entry point."""
    args = parse_args()
    pin = args.cpu if args.cpu >= 0 and shutil.which("taskset") else None
    work = args.keep or tempfile.mkdtemp(prefix="spfbench.")
    os.makedirs(work, exist_ok=True)
    flat = os.path.join(work, "flat.txt")
    suite_data.write_flat(suite_data.load(args.suite), flat)
    impls = make_impls(args, flat)

    order, passed = None, {}
    for name, impl in impls.items():
        ids, ok, got = check(impl, pin)
        if order is None:
            order = ids
        elif sorted(ids) != sorted(order):
            die("%s reports other case ids than spfgate" % name)
        passed[name] = ok
        print("%-8s passes %3d/%d cases" % (name, len(ok), len(ids)))
        if name == "spfgate" and len(ok) < len(ids):
            bad = [i for i in ids if i not in ok]
            print("         spfgate fails: %s" % " ".join(
                "%s(%s)" % (i, got[i]) for i in bad))

    sets = {"all": set(order)}
    for other in ("libspf2", "pyspf"):
        sets[other] = passed["spfgate"] & passed[other]
        if not sets[other]:
            die("no case passed by both spfgate and %s" % other)
    paths = {}
    for key, chosen in sets.items():
        paths[key] = os.path.join(work, "ids-%s.txt" % key)
        write_ids(paths[key], order, chosen)

    # spfgate is timed once per distinct set: a common set equal to the
    # whole suite reuses the "all" measurement.
    alias = {o: ("all" if sets[o] == sets["all"] else o) for o in TARGETS}
    plan = [("spfgate", "all")]
    for other in TARGETS:
        if alias[other] != "all":
            plan.append(("spfgate", other))
        plan.append((other, other))
    rates = {p: [] for p in plan}
    print("timing: %d rounds x %d measurements x %.1f s, %s"
          % (args.runs, len(plan), args.seconds,
             "pinned to cpu %d" % pin if pin is not None else "not pinned"))
    for r in range(args.runs):
        for impl_name, key in plan:
            rate = time_once(impls[impl_name], args.seconds, paths[key], pin)
            rates[(impl_name, key)].append(rate)
        print("  round %d/%d done" % (r + 1, args.runs), flush=True)

    print()
    print("date: %s" % time.strftime("%Y-%m-%d %H:%M"))
    print("%-9s %-42s %5s %10s %10s %10s" % ("impl", "case set", "cases",
                                               "median", "min", "max"))
    label = {"all": "all suite cases",
             "libspf2": "common with libspf2",
             "pyspf": "common with pyspf"}
    shared = [o for o in TARGETS if alias[o] == "all"]
    if shared:
        label["all"] += " (= common with %s)" % ", ".join(shared)
    med = {}
    for impl_name, key in plan:
        m, lo, hi = summary(rates[(impl_name, key)])
        med[(impl_name, key)] = m
        print("%-9s %-42s %5d %10s %10s %10s" % (
            impl_name, label[key], len(sets[key]), fmt_rate(m), fmt_rate(lo),
            fmt_rate(hi)))
    print()
    for other, target in TARGETS.items():
        ratio = med[("spfgate", alias[other])] / med[(other, other)]
        paired = [g / o for g, o in zip(rates[("spfgate", alias[other])],
                                        rates[(other, other)])]
        print("spfgate/%-7s on %3d common cases: %6.1fx  (target >= %gx: %s)"
              "\n%-16s per-round ratios: median %.1fx, min %.1fx, max %.1fx"
              % (other, len(sets[other]), ratio, target,
                 "met" if ratio >= target else "NOT met", "",
                 statistics.median(paired), min(paired), max(paired)))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
