#!/usr/bin/python3
"""bench_relay.py - messages per second through spfgate against the limit.

Usage: bench_relay.py SPFGATE_BINARY [--runs N] [--messages N] [--workers N]

--workers defaults to one per core, the daemon's own default.

Starts, on loopback only:
  - NSD serving bench.test with "v=spf1 ip4:127.0.0.1 -all" (the SPF pass
    path: every message costs a real SPF evaluation through libunbound,
    answered from libunbound's cache after the first lookup, as on a busy
    relay);
  - Postfix's smtp-sink as the backend (no dump, no logging);
  - spfgate (log_level = warning, i.e. no per-message logging).
Then, for each concurrency (1, 10, 100), Postfix's smtp-source sends 4 KB
messages (one connection per message, its default) first straight to
smtp-sink -- the limit -- and then through spfgate.  Each measurement is
repeated --runs times; the median rate is printed with min/max, spfgate's
CPU seconds per 1000 messages, its peak RSS, and the ratio through/straight.
The machine is shared and noisy: read the ratios, not the absolute rates.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONCURRENCY = (1, 10, 100)
PAYLOAD = 4096
TARGET_RATIO = 0.70
TARGET_RSS_MB = 100


def free_port():
    """A TCP+UDP port on 127.0.0.1 that is free right now."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise RuntimeError("no free port")


def wait_port(port, proto=socket.SOCK_STREAM, seconds=10):
    """Waits until something listens on 127.0.0.1:port (TCP)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        s = socket.socket(socket.AF_INET, proto)
        try:
            s.settimeout(0.5)
            s.connect(("127.0.0.1", port))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise RuntimeError("nothing listens on port %d" % port)


class Rig:
    """The servers of one benchmark run; stop() kills them all."""

    def __init__(self, spfgate, workers):
        self.spfgate = spfgate
        self.workers = workers
        self.work = tempfile.mkdtemp(prefix="spfgate-bench-")
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=kw.pop("stderr", subprocess.DEVNULL),
                             **kw)
        self.procs.append(p)
        return p

    def start_nsd(self):
        self.dns_port = free_port()
        with open(os.path.join(self.work, "bench.test.zone"), "w") as f:
            f.write("$ORIGIN bench.test.\n$TTL 3600\n"
                    "@ IN SOA ns h 1 3600 600 86400 3600\n"
                    "@ IN NS ns\nns IN A 127.0.0.1\n"
                    '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n')
        conf = os.path.join(self.work, "nsd.conf")
        with open(conf, "w") as f:
            f.write(
                "server:\n\tip-address: 127.0.0.1@%d\n\tport: %d\n"
                "\tdo-ip6: no\n\tserver-count: 1\n\tusername: \"\"\n"
                "\tchroot: \"\"\n\tzonesdir: \"%s\"\n\tdatabase: \"\"\n"
                "\tzonelistfile: \"%s/zone.list\"\n"
                "\txfrdfile: \"%s/xfrd.state\"\n\tpidfile: \"%s/nsd.pid\"\n"
                "\trrl-ratelimit: 0\n\tverbosity: 0\n"
                "remote-control:\n\tcontrol-enable: no\n"
                "zone:\n\tname: \"bench.test.\"\n"
                "\tzonefile: \"bench.test.zone\"\n"
                % (self.dns_port, self.dns_port, self.work, self.work,
                   self.work, self.work))
        self.start(["nsd", "-d", "-c", conf])
        wait_port(self.dns_port)

    def start_sink(self):
        self.sink_port = free_port()
        self.start(["smtp-sink", "-u", "nobody", "127.0.0.1:%d"
                    % self.sink_port, "1024"])
        wait_port(self.sink_port)

    def start_spfgate(self):
        self.relay_port = free_port()
        conf = os.path.join(self.work, "spfgate.conf")
        with open(conf, "w") as f:
            f.write("[server]\nhostname = bench.relay\nworkers = %d\n"
                    "log_level = warning\nmax_connections = 20000\n"
                    "max_connections_per_ip = 0\n"
                    "[listener smtp]\naddress = 127.0.0.1:%d\n"
                    "[spf]\nskip_networks =\n"
                    "[dns]\ndnssec = no\nforward = 127.0.0.1@%d\n"
                    "[backend]\nservers = 127.0.0.1:%d\n"
                    % (self.workers, self.relay_port, self.dns_port,
                       self.sink_port))
        self.relay = self.start([self.spfgate, "serve", "-c", conf],
                                stderr=open(os.path.join(self.work,
                                                         "spfgate.log"), "w"))
        wait_port(self.relay_port)

    def relay_pids(self):
        """The master and its workers."""
        pids = [self.relay.pid]
        try:
            out = subprocess.run(["pgrep", "-P", str(self.relay.pid)],
                                 capture_output=True, text=True).stdout
            pids += [int(x) for x in out.split()]
        except OSError:
            pass
        return pids

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def cpu_seconds(pids):
    """utime + stime of the given processes, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def peak_rss_mb(pids):
    """Sum of VmHWM (peak resident set) of the given processes, in MB."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def send(port, concurrency, messages):
    """Runs smtp-source; returns (messages per second, ok)."""
    argv = ["smtp-source", "-A", "-s", str(concurrency), "-m",
            str(messages), "-l", str(PAYLOAD), "-M", "client.bench.test",
            "-f", "sender@bench.test", "-t", "rcpt@dest.test",
            "127.0.0.1:%d" % port]
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.stderr.write("smtp-source: %s%s\n" % (r.stdout[-2000:],
                                                   r.stderr[-2000:]))
    return messages / elapsed, r.returncode == 0


def measure(rig, port, concurrency, messages, runs, pids):
    rates, cpu = [], []
    for _ in range(runs):
        before = cpu_seconds(pids) if pids else 0
        rate, ok = send(port, concurrency, messages)
        if not ok:
            raise RuntimeError("smtp-source failed (port %d)" % port)
        if pids:
            cpu.append((cpu_seconds(pids) - before) * 1000 / messages)
        rates.append(rate)
    return rates, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spfgate")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="spfgate workers (default: one per core, as the "
                    "daemon does)")
    args = ap.parse_args()

    rig = Rig(os.path.abspath(args.spfgate), args.workers)
    try:
        rig.start_nsd()
        rig.start_sink()
        rig.start_spfgate()
        # Warm up: the first message fills libunbound's cache.
        send(rig.relay_port, 1, 20)
        pids = rig.relay_pids()
        print("spfgate bench/relay: %d-byte messages, %d per run, "
              "median of %d runs, spfgate workers=%d, logging off"
              % (PAYLOAD, args.messages, args.runs, args.workers))
        print("%-5s %22s %22s %7s %12s %9s"
              % ("conc", "straight msg/s", "spfgate msg/s", "ratio",
                 "cpu ms/msg", "rss MB"))
        verdict = True
        for c in CONCURRENCY:
            n = args.messages if c > 1 else max(args.messages // 3, 200)
            base, _ = measure(rig, rig.sink_port, c, n, args.runs, None)
            through, cpu = measure(rig, rig.relay_port, c, n, args.runs,
                                   pids)
            ratio = statistics.median(through) / statistics.median(base)
            rss = peak_rss_mb(pids)
            print("%-5d %8.0f (%5.0f-%5.0f) %8.0f (%5.0f-%5.0f) %6.0f%% "
                  "%12.3f %9.1f"
                  % (c, statistics.median(base), min(base), max(base),
                     statistics.median(through), min(through),
                     max(through), ratio * 100, statistics.median(cpu),
                     rss))
            if c == 100:
                verdict = ratio >= TARGET_RATIO and rss < TARGET_RSS_MB
                print("target at concurrency 100: >= %d%% of straight and "
                      "< %d MB RSS: %s" % (TARGET_RATIO * 100, TARGET_RSS_MB,
                                           "met" if verdict else "NOT met"))
    finally:
        rig.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
