#!/usr/bin/python3
"""bench_relay.py - messages per second through spfgate against the limit.

Usage: bench_relay.py SPFGATE_BINARY [--runs N] [--messages N] [--workers N]
                      [--connection-cache yes|no]

--workers defaults to one per core, --connection-cache to yes: the
daemon's own defaults.

Starts, on loopback only:
  - NSD serving bench.test with "v=spf1 ip4:127.0.0.1 -all" (the SPF pass
    path: every message costs a real SPF evaluation through libunbound,
    answered from the resolver's cache after the first lookup, as on a
    busy relay);
  - Postfix's smtp-sink as the backend (no dump, no logging);
  - spfgate (log_level = warning, i.e. no per-message logging).
Then, for each concurrency (1, 10, 100), Postfix's smtp-source sends 4 KB
messages (one connection per message, its default) straight to smtp-sink
-- the limit -- and through spfgate, alternating the two --runs times so
that both see the same machine.  It prints the median rate (min-max) of
each, the median of the per-pair ratios through/straight, spfgate's peak
RSS (VmHWM, master + workers) and the CPU time per message of spfgate and
of the peers (smtp-source + smtp-sink) in each mode.
The machine is shared and noisy: read the ratios, not the absolute rates.
"""

import argparse
import os
import resource
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

    def __init__(self, spfgate, workers, connection_cache):
        self.spfgate = spfgate
        self.workers = workers
        self.connection_cache = connection_cache
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
        self.sink = self.start(["smtp-sink", "-u", "nobody",
                                "127.0.0.1:%d" % self.sink_port, "1024"])
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
                    "connection_cache = %s\n"
                    % (self.workers, self.relay_port, self.dns_port,
                       self.sink_port, self.connection_cache))
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
    """Runs smtp-source; returns (messages per second, its CPU seconds)."""
    argv = ["smtp-source", "-A", "-s", str(concurrency), "-m",
            str(messages), "-l", str(PAYLOAD), "-M", "client.bench.test",
            "-f", "sender@bench.test", "-t", "rcpt@dest.test",
            "127.0.0.1:%d" % port]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.stderr.write("smtp-source: %s%s\n" % (r.stdout[-2000:],
                                                   r.stderr[-2000:]))
        raise RuntimeError("smtp-source failed (port %d)" % port)
    source_cpu = (after.ru_utime + after.ru_stime
                  - usage.ru_utime - usage.ru_stime)
    return messages / elapsed, source_cpu


class Sample:
    """One smtp-source run: its rate and the CPU ms/message of each side."""

    def __init__(self, rig, port, concurrency, messages, pids):
        sink_before = cpu_seconds([rig.sink.pid])
        relay_before = cpu_seconds(pids) if pids else 0
        self.rate, source = send(port, concurrency, messages)
        per_msg = 1000.0 / messages
        self.relay_cpu = ((cpu_seconds(pids) - relay_before) * per_msg
                          if pids else 0)
        self.peers_cpu = ((cpu_seconds([rig.sink.pid]) - sink_before)
                          + source) * per_msg


def measure(rig, concurrency, messages, runs, pids):
    """Alternates straight and through runs so that both see the same
    machine; returns the two lists of samples."""
    base, through = [], []
    for _ in range(runs):
        base.append(Sample(rig, rig.sink_port, concurrency, messages, None))
        through.append(Sample(rig, rig.relay_port, concurrency, messages,
                              pids))
    return base, through


def median(samples, attr):
    return statistics.median(getattr(s, attr) for s in samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spfgate")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="spfgate workers (default: one per core, as the "
                    "daemon does)")
    ap.add_argument("--connection-cache", choices=("yes", "no"),
                    default="yes", help="[backend] connection_cache "
                    "(default yes, the daemon's default)")
    args = ap.parse_args()

    rig = Rig(os.path.abspath(args.spfgate), args.workers,
              args.connection_cache)
    try:
        rig.start_nsd()
        rig.start_sink()
        rig.start_spfgate()
        # Warm up: the first message fills libunbound's cache.
        send(rig.relay_port, 1, 20)
        pids = rig.relay_pids()
        print("spfgate bench/relay: %d-byte messages, %d per run, "
              "median of %d runs, spfgate workers=%d, connection_cache=%s, "
              "logging off" % (PAYLOAD, args.messages, args.runs,
                               args.workers, args.connection_cache))
        header = "%-5s %21s %21s %6s %6s %7s %8s %8s"
        print(header % ("conc", "straight msg/s", "spfgate msg/s", "ratio",
                        "rss", "spfgate", "peers", "peers"))
        print(header % ("", "median (min-max)", "median (min-max)",
                        "median", "MB", "cpu/msg", "straight", "through"))
        verdict = True
        for c in CONCURRENCY:
            n = args.messages if c > 1 else max(args.messages // 3, 200)
            base, through = measure(rig, c, n, args.runs, pids)
            ratio = statistics.median(t.rate / b.rate
                                      for b, t in zip(base, through))
            rss = peak_rss_mb(pids)
            print("%-5d %7.0f (%5.0f-%5.0f) %7.0f (%5.0f-%5.0f) %5.0f%% "
                  "%6.1f %5.3fms %6.3fms %6.3fms"
                  % (c, median(base, "rate"), min(b.rate for b in base),
                     max(b.rate for b in base), median(through, "rate"),
                     min(t.rate for t in through),
                     max(t.rate for t in through), ratio * 100, rss,
                     median(through, "relay_cpu"), median(base, "peers_cpu"),
                     median(through, "peers_cpu")))
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
