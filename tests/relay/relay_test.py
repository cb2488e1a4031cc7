#!/usr/bin/python3
"""relay_test.py - spfgate end to end, against real servers on loopback.

Usage: relay_test.py PATH/TO/spfgate

The rig, built afresh in a temporary directory:
  - DNS: NSD in the foreground on 127.0.0.1:<free port> serving a signed
    parent "test." (its DS is the trust anchor) that delegates with DS to
    the signed children good.test (pass, fail, softfail, neutral,
    permerror, none, exp= records as subdomains) and bogus.test (a TXT
    changed after signing), and without DS to the unsigned insecure.test;
    plus tests/dnssec/blackhole.py, a DNS server that never answers.
  - Backends: Postfix's smtp-sink (-v: every command it receives is
    logged; -d: every completed transaction is dumped to a file, an
    aborted one leaves none), a second smtp-sink that refuses every RCPT
    with a chosen text, a dead port, and an in-process fake MTA that
    offers every XCLIENT attribute and records the commands it gets.
  - spfgate: one instance per configuration group, started in the
    foreground (`serve -c FILE`, stderr to a log file), stopped with
    SIGTERM at the end of its group; the stop must give exit code 0, no
    process left behind and no sanitizer report in the log.
  - Clients: raw sockets (byte-exact control, pipelining, smuggling,
    limits, timeouts) and swaks for a few straightforward deliveries.

Every case prints "ok NAME" or "FAIL NAME: detail"; the last line is
"N passed, N failed" and the exit status is 1 if anything failed.
Missing tools are installed with apt-get, or the run fails (no skips).
Every server is killed by PID at the end (finally + atexit + signal
handlers; children also get SIGTERM if this script dies), every wait is
bounded, a watchdog ends the run after WATCHDOG_S seconds.
"""
import atexit
import base64
import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import resource
import selectors
import threading
import urllib.request
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BLACKHOLE = os.path.join(HERE, "..", "dnssec", "blackhole.py")
PY = "/usr/bin/python3"
WATCHDOG_S = 240
HOST = "127.0.0.1"

TOOLS = {"nsd": "nsd", "ldns-keygen": "ldnsutils", "ldns-signzone": "ldnsutils",
         "drill": "ldnsutils", "smtp-sink": "postfix", "swaks": "swaks"}
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


class Failure(Exception):
    """A case's assertion did not hold."""


def check(cond, msg):
    """Raises Failure(msg) unless cond."""
    if not cond:
        raise Failure(msg)


def check_eq(got, want, what):
    """Raises Failure unless got == want."""
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------- processes

PROCS = []          # every Popen we started, stopped at exit
EXTRA_PIDS = []     # spfgate workers seen, killed too if still alive
_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    """preexec_fn: SIGTERM this child if the test script dies."""
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(argv, out, err):
    """Starts argv with stdout/stderr to the given files; registers it."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, preexec_fn=_die_with_parent)
    PROCS.append(p)
    return p


def stop_proc(p, timeout=10.0):
    """SIGTERM, then SIGKILL after timeout; returns the exit status."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    return p.returncode


def pid_is_spfgate(pid):
    """1 if pid is alive and runs spfgate (guards against pid reuse)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"spfgate" in f.read()
    except OSError:
        return False


def children_of(pid):
    """Pids whose parent is pid."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(name))
    return kids


def cleanup():
    """Stops everything we started, by PID."""
    for p in reversed(PROCS):
        try:
            stop_proc(p, 5.0)
        except Exception:  # keep going: the rest must be stopped too
            pass
    for pid in EXTRA_PIDS:
        if pid_is_spfgate(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    del PROCS[:]
    del EXTRA_PIDS[:]


def on_signal(signum, frame):
    """SIGTERM/SIGINT/SIGHUP: leave through the finally blocks."""
    sys.exit(128 + signum)


def on_watchdog(signum, frame):
    """The whole run took too long."""
    print("FAIL watchdog: the run exceeded %d s" % WATCHDOG_S, flush=True)
    sys.exit(1)


def free_port():
    """A port of 127.0.0.1 free for TCP and UDP right now."""
    for _ in range(50):
        t = socket.socket()
        t.bind((HOST, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((HOST, port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free port")


def wait_until(fn, timeout, step=0.05):
    """Polls fn() until it returns a true value or timeout; returns it."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def need_tools():
    """Installs what is missing with apt-get, or fails."""
    missing = sorted({pkg for tool, pkg in TOOLS.items()
                      if shutil.which(tool) is None})
    if missing:
        print("relay_test: installing %s" % " ".join(missing), flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y"] + missing, env=env,
                       stdout=subprocess.DEVNULL, check=False)
    for tool in TOOLS:
        if shutil.which(tool) is None:
            raise RuntimeError("%s is missing and could not be installed"
                               % tool)


# ---------------------------------------------------------------- DNS rig

def soa(origin):
    """The first lines of a zone file."""
    return ("$ORIGIN %s\n$TTL 300\n"
            "@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n"
            "@ IN NS ns.test.\n" % origin)


GOOD_ZONE = [
    '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    'fail IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    'softfail IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
    'neutral IN TXT "v=spf1 ip4:192.0.2.1 ?all"',
    'permerror IN TXT "v=spf1 frobnicate:x.good.test -all"',
    'none IN TXT "just text, no policy here"',
    'exp IN TXT "v=spf1 ip4:192.0.2.1 -all exp=why.exp.good.test"',
    'why.exp IN TXT "%{i} may not send for %{d}"',
    'skipme IN TXT "v=spf1 -all"',
]


class Dns:
    """Keys, zones, NSD and the black hole."""

    def __init__(self, work):
        self.work = work
        self.port = None
        self.hole_port = None
        self.trust_anchor = os.path.join(work, "trust-anchor.ds")

    def run(self, argv):
        """Runs a tool in the work dir; returns its stdout."""
        r = subprocess.run(argv, cwd=self.work, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (argv[0], r.stderr))
        return r.stdout.strip()

    def keygen(self, zone):
        """An algorithm 13 key with the KSK flag (used alone, as a CSK)."""
        return self.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone])

    def write(self, name, text):
        """Writes a file of the work dir."""
        with open(os.path.join(self.work, name), "w") as f:
            f.write(text)

    def make_zones(self):
        """Generates, signs and tampers the zones; writes the anchor."""
        k_good = self.keygen("good.test.")
        k_bogus = self.keygen("bogus.test.")
        k_test = self.keygen("test.")
        self.write("good.test.zone", soa("good.test.") +
                   "\n".join(GOOD_ZONE) + "\n")
        self.write("bogus.test.zone", soa("bogus.test.") +
                   '@ IN TXT "v=spf1 ip4:192.0.2.1 -all"\n')
        self.write("insecure.test.zone", soa("insecure.test.") +
                   '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n')
        ds = ""
        for k in (k_good, k_bogus):
            with open(os.path.join(self.work, k + ".ds")) as f:
                ds += f.read()
        self.write("test.zone", soa("test.") + "ns IN A 127.0.0.1\n" +
                   "".join("%s IN NS ns.test.\n" % c
                           for c in ("good", "bogus", "insecure")) + ds)
        self.run(["ldns-signzone", "-f", "good.test.signed",
                  "good.test.zone", k_good])
        self.run(["ldns-signzone", "-f", "bogus.test.signed",
                  "bogus.test.zone", k_bogus])
        self.run(["ldns-signzone", "-f", "test.signed", "test.zone", k_test])
        # Forge bogus.test after signing: it now claims to allow us.
        path = os.path.join(self.work, "bogus.test.signed")
        with open(path) as f:
            text = f.read()
        forged = text.replace('"v=spf1 ip4:192.0.2.1 -all"',
                              '"v=spf1 ip4:127.0.0.1 -all"')
        if forged == text:
            raise RuntimeError("tampering bogus.test failed")
        with open(path, "w") as f:
            f.write(forged)
        shutil.copy(os.path.join(self.work, k_test + ".ds"),
                    self.trust_anchor)

    def nsd_conf(self, port):
        """NSD's configuration: foreground, no chroot, no rate limit."""
        w = self.work
        text = ("server:\n\tip-address: 127.0.0.1@%d\n\tport: %d\n"
                "\tdo-ip6: no\n\tserver-count: 1\n\tusername: \"\"\n"
                "\tchroot: \"\"\n\tzonesdir: \"%s\"\n\tdatabase: \"\"\n"
                "\tzonelistfile: \"%s/zone.list\"\n"
                "\txfrdfile: \"%s/xfrd.state\"\n\txfrdir: \"%s\"\n"
                "\tpidfile: \"%s/nsd.pid\"\n\tlogfile: \"%s/nsd.log\"\n"
                "\tverbosity: 1\n\trrl-ratelimit: 0\n\thide-version: yes\n"
                "remote-control:\n\tcontrol-enable: no\n"
                % (port, port, w, w, w, w, w, w))
        for z, f in (("test.", "test.signed"),
                     ("good.test.", "good.test.signed"),
                     ("bogus.test.", "bogus.test.signed"),
                     ("insecure.test.", "insecure.test.zone")):
            text += "zone:\n\tname: \"%s\"\n\tzonefile: \"%s\"\n" % (z, f)
        return text

    def answers(self, port):
        """1 if NSD on port answers good.test TXT."""
        try:
            r = subprocess.run(["drill", "-p", str(port), "@" + HOST,
                                "good.test", "TXT"], capture_output=True,
                               text=True, timeout=1)
        except subprocess.TimeoutExpired:
            return False
        return "v=spf1" in r.stdout

    def start_nsd(self):
        """Starts NSD on a free port (3 attempts)."""
        for _ in range(3):
            port = free_port()
            self.write("nsd.conf", self.nsd_conf(port))
            out = open(os.path.join(self.work, "nsd.out"), "ab")
            p = spawn(["nsd", "-d", "-c",
                       os.path.join(self.work, "nsd.conf")], out, out)
            out.close()
            if wait_until(lambda: p.poll() is not None or
                          self.answers(port), 8, 0.1) and p.poll() is None:
                self.port = port
                return
            stop_proc(p)
        raise RuntimeError("nsd did not start: see %s/nsd.log" % self.work)

    def start_blackhole(self):
        """Starts the never-answering DNS server."""
        portfile = os.path.join(self.work, "hole.port")
        spawn([PY, BLACKHOLE, portfile, str(WATCHDOG_S + 60)],
              subprocess.DEVNULL, subprocess.DEVNULL)
        if not wait_until(lambda: os.path.exists(portfile), 5):
            raise RuntimeError("black hole did not start")
        with open(portfile) as f:
            self.hole_port = int(f.read())


# ---------------------------------------------------------------- backends

def xtext_decode(s):
    """RFC 3461 xtext to text (hex digits of either case)."""
    return re.sub(r"\+([0-9A-Fa-f]{2})",
                  lambda m: chr(int(m.group(1), 16)), s)


def unfold(value):
    """A header value with folding and runs of white space as one space."""
    return re.sub(r"\s+", " ", value).strip()


class Dump:
    """One smtp-sink dump file: envelope records, message, headers."""

    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read().decode("latin-1")
        lines = raw.split("\n")
        self.env, self.rcpt_args = {}, []
        i = 0
        while i < len(lines) and lines[i].startswith("X-"):
            key, _, val = lines[i].partition(": ")
            if key == "X-Rcpt-Args":
                self.rcpt_args.append(val)
            else:
                self.env[key] = val
            i += 1
        check(i < len(lines) and lines[i].startswith("Received: "),
              "dump %s: no smtp-sink Received header" % path)
        i += 1
        while i < len(lines) and lines[i].startswith("\t"):
            i += 1
        message = "\n".join(lines[i:])
        check(message.endswith("\n\n"), "dump %s: no final empty line" % path)
        self.message = message[:-1]     # smtp-sink appends one empty line
        head, sep, self.body = self.message.partition("\n\n")
        check(sep, "dump %s: no end of header" % path)
        self.headers = []
        for line in head.split("\n"):
            if line[:1] in (" ", "\t") and self.headers:
                name, val = self.headers[-1]
                self.headers[-1] = (name, val + "\n" + line)
            else:
                name, _, val = line.partition(":")
                self.headers.append((name, val))

    def header(self, name):
        """Unfolded values of every header called name, in order."""
        return [unfold(v) for n, v in self.headers
                if n.lower() == name.lower()]

    def index(self, name, contains=""):
        """Position of the first header name whose value contains text."""
        for i, (n, v) in enumerate(self.headers):
            if n.lower() == name.lower() and contains in unfold(v):
                return i
        return -1


class Sink:
    """An smtp-sink instance with -v logging and per-message dumps."""

    def __init__(self, work, name, extra=()):
        self.dir = os.path.join(work, name + "-dump")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)       # smtp-sink writes as nobody
        self.logpath = os.path.join(work, name + ".log")
        self.port = None
        for _ in range(3):
            port = free_port()
            argv = ["smtp-sink", "-v"]
            if os.geteuid() == 0:
                argv += ["-u", "nobody"]
            argv += ["-d", self.dir + "/%M."] + list(extra)
            argv += ["%s:%d" % (HOST, port), "100"]
            log = open(self.logpath, "ab")
            self.proc = spawn(argv, subprocess.DEVNULL, log)
            log.close()
            if wait_until(lambda: self.proc.poll() is not None or
                          self.greets(port), 5) and self.proc.poll() is None:
                self.port = port
                return
            stop_proc(self.proc)
        raise RuntimeError("smtp-sink %s did not start" % name)

    @staticmethod
    def greets(port):
        """1 if a 220 greeting comes from port."""
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                ok = s.recv(100).startswith(b"220")
                s.sendall(b"QUIT\r\n")
                return ok
        except OSError:
            return False

    def log(self):
        """Everything smtp-sink logged (-v: the commands it received)."""
        with open(self.logpath, "rb") as f:
            return f.read().decode("latin-1")

    def files_with(self, token):
        """Dump files whose content contains token."""
        found = []
        for name in os.listdir(self.dir):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    if token.encode() in f.read():
                        found.append(os.path.join(self.dir, name))
            except OSError:
                pass        # removed meanwhile (an aborted transaction)
        return found

    def dump(self, token, timeout=5.0):
        """The one dump holding token (waits for it)."""
        files = wait_until(lambda: self.files_with(token), timeout)
        check(files, "no message with %r reached the backend" % token)
        check(len(files) == 1, "%d messages hold %r" % (len(files), token))
        return Dump(files[0])

    def assert_absent(self, *tokens, settle=3.0):
        """Fails if a dump holding one of tokens exists or persists.

        An open transaction has a file that smtp-sink removes when the
        relay aborts it, so wait (bounded) for it to go, then make sure
        nothing came back."""
        def gone():
            return not any(self.files_with(t) for t in tokens)
        wait_until(gone, settle)
        time.sleep(0.2)
        for t in tokens:
            check(not self.files_with(t),
                  "a message with %r was delivered to the backend" % t)


class FakeMta(socketserver.ThreadingTCPServer):
    """A tiny MTA offering every XCLIENT attribute; records commands."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse_reuse=False):
        super().__init__((HOST, 0), FakeMtaHandler)
        self.port = self.server_address[1]
        self.lock = threading.Lock()
        self.commands = []      # (connection number, command line | <EOF>)
        self.messages = []      # message content (wire form)
        self.nconn = 0
        # 421 to XCLIENT and RSET on a connection that already delivered
        # a message, as a backend about to close an old connection.
        self.refuse_reuse = refuse_reuse
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        """Stops serving."""
        self.shutdown()
        self.server_close()


class FakeMtaHandler(socketserver.StreamRequestHandler):
    """One backend connection of FakeMta."""
    timeout = 30

    def line(self):
        """One line, or None at EOF."""
        data = self.rfile.readline(4096)
        return data if data else None

    def handle(self):
        srv = self.server
        with srv.lock:
            srv.nconn += 1
            conn = srv.nconn
        self.wfile.write(b"220 fake.test ESMTP\r\n")
        delivered = False
        while True:
            data = self.line()
            if data is None:
                with srv.lock:
                    srv.commands.append((conn, "<EOF>"))
                return
            cmd = data.decode("latin-1").rstrip("\r\n")
            with srv.lock:
                srv.commands.append((conn, cmd))
            verb = cmd.split(" ", 1)[0].upper()
            if (srv.refuse_reuse and delivered and
                    verb in ("XCLIENT", "RSET")):
                self.wfile.write(b"421 4.3.2 closing old connection\r\n")
                return
            if verb == "EHLO":
                self.wfile.write(b"250-fake.test\r\n250-XCLIENT NAME ADDR "
                                 b"PORT PROTO HELO DESTADDR DESTPORT\r\n"
                                 b"250-ENHANCEDSTATUSCODES\r\n"
                                 b"250 8BITMIME\r\n")
            elif verb == "XCLIENT":
                self.wfile.write(b"220 fake.test ESMTP\r\n")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.wfile.write(b"250 2.0.0 Ok\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                content = b""
                while True:
                    data = self.line()
                    if data is None:
                        return
                    if data == b".\r\n":
                        break
                    content += data
                with srv.lock:
                    srv.messages.append(content)
                delivered = True
                self.wfile.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 2.0.0 Bye\r\n")
                return
            else:
                self.wfile.write(b"502 5.5.1 Error: not here\r\n")


# ---------------------------------------------------------------- relay

def parse_kv(line):
    """key=value pairs of a log line ("..." values unquoted)."""
    out = {}
    for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line):
        val = m.group(2)
        if val.startswith('"'):
            val = val[1:-1]
        out[m.group(1)] = val
    return out


class Relay:
    """One spfgate instance with its own configuration and log."""

    def __init__(self, spfgate, work, name, dns, backends, server="",
                 spf="", dnsconf="", backend="", extra="", prefix=()):
        self.name = name
        self.confpath = os.path.join(work, name + ".conf")
        self.logpath = os.path.join(work, name + ".stderr")
        self.workers = []
        for _ in range(3):
            self.port = free_port()
            with open(self.confpath, "w") as f:
                f.write(self.conf_text(dns, backends, server, spf, dnsconf,
                                       backend) + extra)
            log = open(self.logpath, "wb")
            self.proc = spawn(list(prefix) + [spfgate, "serve", "-c",
                                              self.confpath],
                              subprocess.DEVNULL, log)
            log.close()
            if self.wait_ready():
                return
            stop_proc(self.proc)
            if "listen_failed" not in self.log():
                break
        raise RuntimeError("spfgate %s did not start:\n%s"
                           % (name, self.log()[-3000:]))

    def conf_text(self, dns, backends, server, spf, dnsconf, backend):
        """The configuration file; extra lines go into their sections."""
        if not dnsconf:
            dnsconf = "forward = 127.0.0.1@%d\n" % dns.port
        if "skip_networks" not in spf:
            spf = "skip_networks =\n" + spf
        return ("[server]\nhostname = relay.test\nworkers = 1\n%s"
                "[listener smtp]\naddress = %s:%d\n"
                "[spf]\n%s"
                "[dns]\ndnssec = yes\ntrust_anchor = %s\n"
                "query_timeout = 1s\n%s"
                "[backend]\nservers = %s\n%s"
                % (server, HOST, self.port, spf, dns.trust_anchor, dnsconf,
                   ", ".join("127.0.0.1:%d" % p for p in backends), backend))

    def wait_ready(self):
        """Waits (bounded) until a client gets the 220 greeting."""
        def greeted():
            if self.proc.poll() is not None:
                return True
            try:
                with socket.create_connection((HOST, self.port),
                                              timeout=3) as s:
                    ok = s.recv(200).startswith(b"220")
                    s.sendall(b"QUIT\r\n")
                    s.settimeout(3)
                    while s.recv(200):
                        pass
                    return ok
            except OSError:
                return False
        if not wait_until(greeted, 15, 0.1) or self.proc.poll() is not None:
            return False
        self.workers = children_of(self.proc.pid)
        EXTRA_PIDS.extend(self.workers)
        self.wait_sessions_closed()
        return True

    def log(self):
        """Everything the relay wrote to stderr."""
        with open(self.logpath, "rb") as f:
            return f.read().decode("latin-1")

    def log_lines(self, event):
        """Parsed key=value lines of one event."""
        return [parse_kv(l) for l in self.log().splitlines()
                if " event=%s " % event in l + " "]

    def wait_log(self, pred, event, timeout=5.0):
        """The first event line satisfying pred (waits for it)."""
        def find():
            for kv in self.log_lines(event):
                if pred(kv):
                    return kv
            return None
        kv = wait_until(find, timeout)
        check(kv is not None, "%s: no event=%s log line as expected"
              % (self.name, event))
        return kv

    def wait_sessions_closed(self, timeout=5.0):
        """Waits until every logged connect has its disconnect."""
        def done():
            log = self.log()
            return log.count(" event=disconnect ") >= \
                log.count(" event=connect ")
        return wait_until(done, timeout)

    def sanitizer_reports(self):
        """Sanitizer lines in the log."""
        return [l for l in self.log().splitlines()
                if any(m in l for m in SANITIZER_MARKS)]

    def stop(self, timeout=30.0):
        """SIGTERM; returns (exit status or None, workers still alive)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        pids = set(self.workers + children_of(self.proc.pid))
        alive = [p for p in pids
                 if not wait_until(lambda p=p: not pid_is_spfgate(p), 2)]
        return rc, alive


# ---------------------------------------------------------------- client

class Reply:
    """One SMTP reply."""

    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[0][:3])
        first = lines[0][4:]
        m = re.match(r"(\d\.\d{1,3}\.\d{1,3})(?: |$)", first)
        self.enhanced = m.group(1) if m else ""
        self.text = "\n".join(l[4:] for l in lines)

    def __repr__(self):
        return repr(" | ".join(self.lines))


class Client:
    """A raw SMTP client with bounded waits."""

    def __init__(self, port, source=None, timeout=10.0):
        self.sock = socket.create_connection(
            (HOST, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        """Writes bytes (str is encoded)."""
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Reads more; False at EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timeout waiting for the server; buffered %r"
                          % self.buf[-200:])
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Failure("timeout waiting for the server; buffered %r"
                          % self.buf[-200:])
        except ConnectionResetError:
            data = b""
        if not data:
            return False
        self.buf += data
        return True

    def reply(self, timeout=10.0):
        """The next complete reply."""
        deadline = time.monotonic() + timeout
        while True:
            lines, pos = [], 0
            while True:
                end = self.buf.find(b"\n", pos)
                if end < 0:
                    break
                line = self.buf[pos:end].rstrip(b"\r").decode("latin-1")
                pos = end + 1
                check(re.match(r"\d{3}([ -]|$)", line),
                      "malformed reply line %r" % line)
                lines.append(line)
                if len(line) == 3 or line[3] == " ":
                    self.buf = self.buf[pos:]
                    return Reply(lines)
            if not self._fill(deadline):
                raise Failure("connection closed while waiting for a reply"
                              " (buffered %r)" % self.buf[-200:])

    def cmd(self, line, timeout=10.0):
        """Sends one command line, returns its reply."""
        self.send(line + "\r\n")
        return self.reply(timeout)

    def eof(self, timeout=5.0):
        """True if the server closes within timeout (data is dropped)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
            return True
        except Failure:
            return False


def trickle(c, pieces, interval):
    """Sends pieces one at a time, interval apart, until the server says
    something; returns the seconds that took, or None if it never did."""
    t0 = time.monotonic()
    for piece in pieces:
        try:
            c.send(piece)
        except OSError:         # closed by the server: its reply is read
            return time.monotonic() - t0
        c.sock.settimeout(interval)
        try:
            data = c.sock.recv(1000)
        except socket.timeout:
            continue
        c.buf += data
        return time.monotonic() - t0
    return None


def expect(reply, code, enhanced=None, what=""):
    """Checks a reply's code (and enhanced code: exact or a prefix.)."""
    check(reply.code == code, "%s: want %d, got %r" % (what, code, reply))
    if enhanced is not None:
        check(reply.enhanced.startswith(enhanced),
              "%s: want %s, got %r" % (what, enhanced, reply))


def greet(port, helo="client.good.test", source=None):
    """A client past the greeting and EHLO."""
    c = Client(port, source)
    expect(c.reply(), 220, what="greeting")
    expect(c.cmd("EHLO " + helo), 250, what="EHLO")
    return c


def message(token, body="hello\r\n", extra=""):
    """A small message in wire form with token in its Subject."""
    return ("From: <sender@good.test>\r\nTo: <rcpt@dest.example>\r\n"
            "Subject: %s\r\nMessage-ID: <%s@client.good.test>\r\n%s\r\n%s"
            % (token, token, extra, body))


def transaction(c, sender, rcpts, content, what="transaction"):
    """MAIL, RCPTs, DATA, content: returns the final reply."""
    expect(c.cmd("MAIL FROM:<%s>" % sender), 250, "2.", what + " MAIL")
    for r in rcpts:
        expect(c.cmd("RCPT TO:<%s>" % r), 250, "2.", what + " RCPT")
    expect(c.cmd("DATA"), 354, what=what + " DATA")
    if isinstance(content, str):
        content = content.encode()
    c.send(content + b".\r\n")
    return c.reply(60)


def deliver(port, sender, token, content=None, helo="client.good.test",
            source=None):
    """One message in one session; returns the final reply."""
    with greet(port, helo, source) as c:
        r = transaction(c, sender, ["rcpt-%s@dest.example" % token],
                        content if content is not None else message(token))
        c.cmd("QUIT")
        return r


def swaks(port, sender, rcpt, token, helo="client.good.test"):
    """Sends one message with swaks; returns its transcript."""
    r = subprocess.run(["swaks", "--server", "%s:%d" % (HOST, port),
                        "--from", sender, "--to", rcpt, "--ehlo", helo,
                        "--header", "Subject: %s" % token,
                        "--body", "body of %s" % token, "--timeout", "20"],
                       capture_output=True, text=True, timeout=40)
    check(r.returncode == 0, "swaks exit %d:\n%s" % (r.returncode,
                                                     r.stdout[-1500:]))
    return r.stdout


# ---------------------------------------------------------------- cases

class Suite:
    """Runs the cases, counts, prints."""

    def __init__(self, spfgate):
        self.spfgate = spfgate
        self.passed = self.failed = 0
        self.work = tempfile.mkdtemp(prefix="spfgate-relay.")
        os.chmod(self.work, 0o755)      # smtp-sink (nobody) needs to enter
        self.dns = Dns(self.work)
        self.sink = None

    def case(self, name, fn, *args):
        """Runs one case; prints ok/FAIL."""
        t0 = time.monotonic()
        try:
            fn(*args)
        except Failure as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
            return
        except (OSError, ValueError, RuntimeError) as e:
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e),
                  flush=True)
            return
        self.passed += 1
        print("ok %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)

    def relay(self, name, backends=None, **kw):
        """Starts a relay for a group (backends default: the sink)."""
        return Relay(self.spfgate, self.work, name, self.dns,
                     backends if backends is not None else [self.sink.port],
                     **kw)

    def stop_case(self, relay):
        """Stops a group's relay: exit 0, no process left, no sanitizer."""
        def stopped():
            rc, alive = relay.stop()
            check(rc == 0, "%s: exit status %r after SIGTERM (log tail: %s)"
                  % (relay.name, rc, relay.log()[-800:]))
            check(not alive, "%s: workers still running: %r"
                  % (relay.name, alive))
            reports = relay.sanitizer_reports()
            check(not reports, "%s: sanitizer: %s" % (relay.name,
                                                      reports[:3]))
        self.case(relay.name + "_clean_stop", stopped)


def spf_header_checks(d, result, sender, dnssec):
    """Received-SPF and Authentication-Results for one verdict."""
    rspf = d.header("Received-SPF")
    check(len(rspf) == 1, "Received-SPF headers: %r" % rspf)
    check(rspf[0].startswith(result + " "), "Received-SPF: %r" % rspf[0])
    for part in ("client-ip=127.0.0.1;", "receiver=relay.test;",
                 "identity=mailfrom;", "x-dnssec=%s" % dnssec):
        check(part in rspf[0], "Received-SPF lacks %r: %r" % (part, rspf[0]))
    check(re.search(r'envelope-from="?%s"?;' % re.escape(sender), rspf[0]),
          "Received-SPF envelope-from: %r" % rspf[0])
    ar = d.header("Authentication-Results")
    check(len(ar) == 1, "Authentication-Results headers: %r" % ar)
    check(ar[0].startswith("relay.test; spf=%s " % result),
          "Authentication-Results: %r" % ar[0])
    for part in ("(dnssec=%s)" % dnssec, "smtp.mailfrom=%s" % sender):
        check(part in ar[0], "Authentication-Results lacks %r: %r"
              % (part, ar[0]))


def received_checks(d, helo, rcpt=None, ip="127.0.0.1"):
    """The relay's Received header, below Received-SPF."""
    idx = d.index("Received", "by relay.test (spfgate)")
    check(idx >= 0, "no Received header of the relay: %r" % d.headers[:6])
    rec = unfold(d.headers[idx][1])
    check(rec.startswith("from %s (" % helo) and "[%s])" % ip in rec,
          "Received: %r" % rec)
    check(re.search(r"by relay\.test \(spfgate\) with ESMTP id \w+", rec),
          "Received: %r" % rec)
    if rcpt:
        check("for <%s>;" % rcpt in rec, "Received lacks for <%s>: %r"
              % (rcpt, rec))
    rs = d.index("Received-SPF")
    if rs >= 0:
        check(rs < idx, "Received-SPF must be above the relay's Received "
              "(RFC 7208 9.1)")


class MainCases:
    """Cases on the main relay: DNSSEC-validating, the smtp-sink backend."""

    def __init__(self, suite, relay):
        self.s = suite
        self.r = relay
        self.sink = suite.sink
        self.port = relay.port

    def spf_pass_delivered(self):
        token = "pass-t1"
        sender = "%s@good.test" % token
        content = message(token, "hello pass\r\n")
        r = deliver(self.port, sender, token, content)
        expect(r, 250, "2.", "final reply")
        d = self.sink.dump(token)
        check(d.env.get("X-Mail-Args", "").split(" ")[0] == "<%s>" % sender,
              "X-Mail-Args: %r" % d.env.get("X-Mail-Args"))
        check_eq([a.split(" ")[0] for a in d.rcpt_args],
                 ["<rcpt-%s@dest.example>" % token], "X-Rcpt-Args")
        check_eq(d.env.get("X-Client-Addr"), "127.0.0.1", "X-Client-Addr")
        # XCLIENT HELO= then EHLO with the client's name: the sink saw the
        # real client's HELO, not the relay's own "relay.test".
        check_eq(d.env.get("X-Helo-Args"), "client.good.test", "X-Helo-Args")
        xc = [l for l in self.sink.log().splitlines()
              if "XCLIENT" in l and "HELO=client.good.test" in l]
        check(xc, "smtp-sink never got XCLIENT HELO=client.good.test")
        spf_header_checks(d, "pass", sender, "secure")
        received_checks(d, "client.good.test",
                        "rcpt-%s@dest.example" % token)
        check_eq(d.body, "hello pass\n", "body")
        check(d.index("Subject", token) > d.index("Received",
                                                  "by relay.test"),
              "the relay's headers must come before the message's")

    def transaction_log_line(self):
        token = "log-t1"
        sender = "%s@good.test" % token
        content = message(token, "one\r\ntwo\r\n")
        expect(deliver(self.port, sender, token, content), 250, "2.")
        kv = self.r.wait_log(lambda kv: kv.get("sender") == sender,
                             "transaction")
        for key in ("session", "duration_ms", "helo", "client", "spf",
                    "rcpt_accepted", "rcpt_refused", "size", "backend",
                    "reply", "outcome"):
            check(key in kv, "transaction line lacks %s: %r" % (key, kv))
        check(re.fullmatch(r"[0-9a-f]{16}", kv["session"]),
              "session id %r" % kv["session"])
        check_eq(kv["outcome"], "delivered", "outcome")
        check_eq(kv["client"], "127.0.0.1", "client")
        check_eq(kv["helo"], "client.good.test", "helo")
        check_eq(kv["spf"], "pass", "spf")
        check_eq(kv["dnssec"], "secure", "dnssec")
        check_eq(kv["rcpt_accepted"], "1", "rcpt_accepted")
        check_eq(kv["rcpt_refused"], "0", "rcpt_refused")
        check_eq(kv["size"], str(len(content)), "size (content octets)")
        check_eq(kv["backend"], "127.0.0.1:%d" % self.sink.port, "backend")
        check_eq(kv["reply"], "250", "reply")
        check(kv["duration_ms"].isdigit(), "duration_ms %r"
              % kv["duration_ms"])
        # The same session's connect line carries the same id.
        self.r.wait_log(lambda c: c.get("session") == kv["session"],
                        "connect")
        # A refused transaction is logged too.
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:<log-t2@fail.good.test>"), 550)
        kv = self.r.wait_log(lambda kv: kv.get("sender") ==
                             "log-t2@fail.good.test", "transaction")
        check_eq((kv["outcome"], kv["spf"], kv["reply"]),
                 ("refused_spf", "fail", "550"), "refused transaction")

    def spf_fail_rejected(self):
        token = "fail-t1"
        with greet(self.port) as c:
            r = c.cmd("MAIL FROM:<%s@fail.good.test>" % token)
            expect(r, 550, "5.7.23", "MAIL")
            check("fail" in r.text.lower(), "reply text %r" % r.text)
            # The session goes on: a good sender is accepted next.
            expect(c.cmd("MAIL FROM:<fail-t1-next@good.test>"), 250, "2.")
            expect(c.cmd("RSET"), 250)
        check(token + "@" not in self.sink.log(),
              "the failing sender reached the backend")
        self.sink.assert_absent(token + "@")

    def spf_fail_explanation(self):
        with greet(self.port) as c:
            r = c.cmd("MAIL FROM:<exp-t1@exp.good.test>")
        expect(r, 550, "5.7.23", "MAIL")
        check("127.0.0.1 may not send for exp.good.test" in r.text,
              "the domain's exp= text is missing: %r" % r.text)

    def accepted_with_header(self, result):
        """softfail/neutral/none: accepted by default, header says so."""
        token = "%s-t1" % result
        sender = "%s@%s.good.test" % (token, result)
        out = swaks(self.port, sender, "rcpt-%s@dest.example" % token, token)
        lines = out.splitlines()
        check(" -> ." in lines, "swaks sent no end of data:\n%s" % out)
        final = lines[lines.index(" -> .") + 1]
        check(final.startswith("<-  250 2."),
              "swaks got %r after the content" % final)
        d = self.sink.dump(token)
        spf_header_checks(d, result, sender, "secure")
        received_checks(d, "client.good.test")

    def spf_permerror_rejected(self):
        with greet(self.port) as c:
            r = c.cmd("MAIL FROM:<perm-t1@permerror.good.test>")
        expect(r, 550, "5.7.24", "MAIL")
        check("permerror" in r.text, "reply text %r" % r.text)
        check("perm-t1@" not in self.sink.log(), "reached the backend")

    def dnssec_bogus_deferred(self):
        with greet(self.port) as c:
            r = c.cmd("MAIL FROM:<bogus-t1@bogus.test>", 15)
        expect(r, 451, "4.7.24", "MAIL")
        check("temperror" in r.text, "reply text %r" % r.text)
        check("bogus-t1@" not in self.sink.log(), "reached the backend")
        kv = self.r.wait_log(lambda kv: kv.get("checked") ==
                             "bogus-t1@bogus.test", "spf")
        check_eq(kv.get("result"), "temperror", "logged SPF result")

    def dnssec_insecure_header(self):
        token = "insecure-t1"
        sender = "%s@insecure.test" % token
        expect(deliver(self.port, sender, token), 250, "2.")
        spf_header_checks(self.sink.dump(token), "pass", sender, "insecure")

    def pipelined_session(self):
        token = "pipe-t1"
        c = Client(self.port)
        with c:
            expect(c.reply(), 220, what="greeting")
            c.send("EHLO client.good.test\r\n"
                   "MAIL FROM:<%s@good.test>\r\n"
                   "RCPT TO:<a-%s@dest.example>\r\n"
                   "RCPT TO:<b-%s@dest.example>\r\n"
                   "DATA\r\n%s.\r\nQUIT\r\n"
                   % (token, token, token, message(token, "piped\r\n")))
            codes = [c.reply(20).code for _ in range(7)]
            check_eq(codes, [250, 250, 250, 250, 354, 250, 221],
                     "reply codes in order")
            check(c.eof(), "no close after QUIT")
        d = self.sink.dump(token)
        check_eq([a.split(" ")[0] for a in d.rcpt_args],
                 ["<a-%s@dest.example>" % token,
                  "<b-%s@dest.example>" % token], "X-Rcpt-Args")
        check_eq(d.body, "piped\n", "body")

    def smuggling(self, label, seq):
        """A smuggling sequence: 550 5.6.11, nothing delivered, usable."""
        token = "smug-%s-t" % label
        evil = "evil-%s-t" % label
        content = (message(token, "first line\r\ntext").encode() + seq +
                   ("MAIL FROM:<%s@good.test>\r\nRCPT TO:<victim-%s@dest."
                    "example>\r\nDATA\r\nSubject: %s\r\n\r\nsmuggled\r\n"
                    % (evil, label, evil)).encode())
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250, "2.")
            expect(c.cmd("RCPT TO:<rcpt-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            c.send(content + b".\r\n")
            expect(c.reply(20), 550, "5.6.11", "end of data")
            # The session still works afterwards.
            expect(c.cmd("RSET"), 250, what="RSET")
            after = "after-%s-t" % label
            r = transaction(c, "%s@good.test" % after,
                            ["rcpt-%s@dest.example" % after],
                            message(after, "clean\r\n"), "next")
            expect(r, 250, "2.", "next transaction")
            c.cmd("QUIT")
        self.sink.assert_absent(token, evil)
        check(evil not in self.sink.log(), "smuggled commands reached the "
              "backend")
        check_eq(self.sink.dump(after).body, "clean\n", "next body")

    def line_too_long(self):
        with greet(self.port) as c:
            expect(c.cmd("NOOP " + "x" * 600), 500, "5.5.2", "long line")
            expect(c.cmd("NOOP"), 250, what="NOOP afterwards")
            # 512 octets with CR LF is still allowed.
            expect(c.cmd("NOOP " + "y" * (512 - 7)), 250, what="512 octets")

    def unknown_command(self):
        with greet(self.port) as c:
            expect(c.cmd("FROBNICATE now"), 500, "5.5.1")
            expect(c.cmd("NOOP"), 250)

    def bad_sequence(self):
        with greet(self.port) as c:
            expect(c.cmd("RCPT TO:<x@dest.example>"), 503, "5.5.1", "RCPT")
            expect(c.cmd("DATA"), 503, "5.5.1", "DATA")
        with Client(self.port) as c:
            expect(c.reply(), 220)
            expect(c.cmd("MAIL FROM:<seq@good.test>"), 503, "5.5.1",
                   "MAIL before EHLO")

    def syntax_error(self):
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:seq@good.test"), 501, "5.", "no <>")
            expect(c.cmd("MAIL FROM:<no-at-sign>"), 501, "5.1.7",
                   "bad sender")
            expect(c.cmd("MAIL FROM:<a@good.test>"), 250, "2.")
            expect(c.cmd("RCPT TO:<@@bad>"), 501, "5.1.3", "bad rcpt")

    def too_many_recipients(self):
        token = "rcpts-t1"
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            for i in range(3):
                expect(c.cmd("RCPT TO:<r%d-%s@dest.example>" % (i, token)),
                       250, what="RCPT %d" % i)
            expect(c.cmd("RCPT TO:<r3-%s@dest.example>" % token), 452,
                   "4.5.3", "RCPT over max_recipients")
            expect(c.cmd("DATA"), 354)
            c.send(message(token) + ".\r\n")
            expect(c.reply(20), 250, "2.")
        d = self.sink.dump(token)
        check_eq(len(d.rcpt_args), 3, "recipients delivered")

    def dot_stuffing(self):
        token = "dots-t1"
        lines = ["..x", ".", "...", ". lead", "x.", "", ".", "end"]
        wire = "".join(("." + l if l.startswith(".") else l) + "\r\n"
                       for l in lines)
        expect(deliver(self.port, "%s@good.test" % token, token,
                       message(token, wire)), 250, "2.")
        check_eq(self.sink.dump(token).body, "\n".join(lines) + "\n",
                 "body after unstuffing")

    def large_message(self):
        token = "large-t1"
        pool = base64.b64encode(hashlib.sha512(b"spfgate").digest() *
                                200).decode()
        lines, size, i = [], 0, 0
        while size < 5 * 1024 * 1024:
            n = (i * 37) % 300
            line = pool[(i * 13) % 1000:][:n]
            if i % 41 == 0:
                line = "." + line
            lines.append(line)
            size += len(line) + 2
            i += 1
        wire = "".join(("." + l if l.startswith(".") else l) + "\r\n"
                       for l in lines)
        content = message(token, wire)
        r = deliver(self.port, "%s@good.test" % token, token, content)
        expect(r, 250, "2.", "final reply")
        body = self.sink.dump(token, 20).body.encode()
        want = ("\n".join(lines) + "\n").encode()
        check_eq(len(body), len(want), "body length")
        check_eq(hashlib.sha256(body).hexdigest(),
                 hashlib.sha256(want).hexdigest(), "body sha256")
        kv = self.r.wait_log(lambda kv: kv.get("sender") ==
                             "%s@good.test" % token, "transaction")
        check_eq(kv["size"], str(len(content)), "logged size")

    def dsn_params(self):
        token = "dsn-t1"
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test> RET=HDRS "
                         "ENVID=env+2Did-%s" % (token, token)), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example> NOTIFY=SUCCESS,DELAY "
                         "ORCPT=rfc822;r-%s+40orig.example"
                         % (token, token)), 250)
            expect(c.cmd("RCPT TO:<n-%s@dest.example> NOTIFY=NEVER"
                         % token), 250)
            expect(c.cmd("DATA"), 354)
            c.send(message(token) + ".\r\n")
            expect(c.reply(20), 250, "2.")
        d = self.sink.dump(token)
        margs = d.env.get("X-Mail-Args", "").split(" ")
        check("RET=HDRS" in margs, "X-Mail-Args: %r" % margs)
        envid = [a for a in margs if a.startswith("ENVID=")]
        check(envid and xtext_decode(envid[0][6:]) == "env-id-" + token,
              "ENVID in X-Mail-Args: %r" % margs)
        check_eq(len(d.rcpt_args), 2, "X-Rcpt-Args")
        r1 = d.rcpt_args[0].split(" ")
        notify = [a for a in r1 if a.startswith("NOTIFY=")]
        check(notify and set(notify[0][7:].split(",")) ==
              {"SUCCESS", "DELAY"}, "NOTIFY: %r" % r1)
        orcpt = [a for a in r1 if a.startswith("ORCPT=")]
        check(orcpt, "no ORCPT: %r" % r1)
        kind, _, addr = orcpt[0][6:].partition(";")
        check(kind.lower() == "rfc822" and xtext_decode(addr) ==
              "r-%s@orig.example" % token, "ORCPT: %r" % orcpt[0])
        check("NOTIFY=NEVER" in d.rcpt_args[1].split(" "),
              "NOTIFY=NEVER: %r" % d.rcpt_args[1])

    def split_writes(self):
        """End-of-data decisions across separate reads of the relay."""
        token = "split-t1"
        evil = "evil-split-t1"
        with greet(self.port) as c:
            # A smuggling "\r\n.\n" cut into pieces: still 550.
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            for piece in (message(token, "line\r").encode(), b"\n",
                          b".", b"\n", ("MAIL FROM:<%s@good.test>\r\n"
                                        % evil).encode(), b"\r\n.",
                          b"\r", b"\n"):
                c.send(piece)
                time.sleep(0.05)
            expect(c.reply(10), 550, "5.6.11", "split smuggling")
            # A legitimate end of data cut into single octets: delivered.
            ok = "split-ok-t1"
            expect(c.cmd("MAIL FROM:<%s@good.test>" % ok), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % ok), 250)
            expect(c.cmd("DATA"), 354)
            c.send(message(ok, "a\r\n.b\r\n")[:-2])
            for piece in (b"\r", b"\n", b".", b"\r", b"\n"):
                time.sleep(0.05)
                c.send(piece)
            expect(c.reply(10), 250, "2.", "split end of data")
        self.sink.assert_absent(token, evil)
        check_eq(self.sink.dump(ok).body, "a\nb\n", "body")

    def rset_mid_transaction(self):
        first, second = "rset-a-t1", "rset-b-t1"
        with greet(self.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % first), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % first), 250)
            expect(c.cmd("RSET"), 250)
            r = transaction(c, "%s@good.test" % second,
                            ["r-%s@dest.example" % second],
                            message(second), "after RSET")
            expect(r, 250, "2.")
        d = self.sink.dump(second)
        check_eq(d.env.get("X-Mail-Args", "").split(" ")[0],
                 "<%s@good.test>" % second, "X-Mail-Args")
        check_eq([a.split(" ")[0] for a in d.rcpt_args],
                 ["<r-%s@dest.example>" % second], "X-Rcpt-Args")
        self.sink.assert_absent(first + "@")

    def two_transactions_one_session(self):
        tokens = ("two-a-t1", "two-b-t1")
        with greet(self.port) as c:
            for t in tokens:
                r = transaction(c, "%s@good.test" % t,
                                ["r-%s@dest.example" % t],
                                message(t, "body %s\r\n" % t), t)
                expect(r, 250, "2.", t)
            expect(c.cmd("QUIT"), 221)
        for t in tokens:
            d = self.sink.dump(t)
            check_eq([a.split(" ")[0] for a in d.rcpt_args],
                     ["<r-%s@dest.example>" % t], "X-Rcpt-Args of " + t)
            check_eq(d.body, "body %s\n" % t, "body of " + t)
            spf_header_checks(d, "pass", "%s@good.test" % t, "secure")

    def null_sender_helo_identity(self):
        """MAIL FROM:<> is checked as postmaster@HELO (RFC 7208 2.4)."""
        with greet(self.port, "fail.good.test") as c:
            expect(c.cmd("MAIL FROM:<>"), 550, "5.7.23",
                   "null sender, failing HELO domain")
        token = "null-t1"
        with greet(self.port, "good.test") as c:
            r = transaction(c, "", ["r-%s@dest.example" % token],
                            message(token), "null sender")
            expect(r, 250, "2.")
        d = self.sink.dump(token)
        check_eq(d.env.get("X-Mail-Args", "").split(" ")[0], "<>",
                 "X-Mail-Args")
        rspf = d.header("Received-SPF")
        check(rspf and rspf[0].startswith("pass ") and
              "postmaster@good.test" in rspf[0], "Received-SPF: %r" % rspf)

    def client_disconnect_during_data(self):
        token = "disc-t1"
        c = greet(self.port)
        expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
        expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
        expect(c.cmd("DATA"), 354)
        c.send(message(token, "partial line\r\nand a half"))
        time.sleep(0.3)         # let the relay forward what it has
        c.close()
        self.r.wait_log(lambda kv: kv.get("state") == "DATA_BODY",
                        "client_lost")
        self.sink.assert_absent(token)
        check("MAIL FROM:<%s@good.test>" % token in self.sink.log(),
              "the transaction never reached the backend (nothing to abort)")


def run_main_group(suite):
    """The main relay: SPF results, DNSSEC, protocol, content."""
    relay = suite.relay("main", server="max_recipients = 3\n"
                        "max_message_size = 20M\n")
    m = MainCases(suite, relay)
    suite.case("spf_pass_delivered", m.spf_pass_delivered)
    suite.case("transaction_log_line", m.transaction_log_line)
    suite.case("spf_fail_rejected", m.spf_fail_rejected)
    suite.case("spf_fail_explanation", m.spf_fail_explanation)
    for result in ("softfail", "neutral", "none"):
        suite.case("spf_%s_accepted" % result, m.accepted_with_header,
                   result)
    suite.case("spf_permerror_rejected", m.spf_permerror_rejected)
    suite.case("dnssec_bogus_deferred", m.dnssec_bogus_deferred)
    suite.case("dnssec_insecure_header", m.dnssec_insecure_header)
    suite.case("pipelined_session", m.pipelined_session)
    for label, seq in (("lf_dot_lf", b"\n.\n"), ("lf_dot_crlf", b"\n.\r\n"),
                       ("cr_dot_cr", b"\r.\r"), ("crlf_dot_cr", b"\r\n.\r"),
                       ("cr_dot_lf", b"\r.\n"), ("crlf_dot_lf", b"\r\n.\n"),
                       ("lf_dot_cr", b"\n.\r"), ("cr_dot_crlf", b"\r.\r\n"),
                       ("bare_lf_mid_line", b"ab\ncd\r\n"),
                       ("bare_cr_mid_line", b"ab\rcd\r\n")):
        suite.case("smuggling_" + label, m.smuggling, label, seq)
    suite.case("line_too_long", m.line_too_long)
    suite.case("unknown_command", m.unknown_command)
    suite.case("bad_sequence", m.bad_sequence)
    suite.case("syntax_error", m.syntax_error)
    suite.case("too_many_recipients", m.too_many_recipients)
    suite.case("dot_stuffing", m.dot_stuffing)
    suite.case("large_message_5mb", m.large_message)
    suite.case("dsn_params", m.dsn_params)
    suite.case("client_disconnect_during_data",
               m.client_disconnect_during_data)
    suite.case("split_writes_end_of_data", m.split_writes)
    suite.case("rset_mid_transaction", m.rset_mid_transaction)
    suite.case("two_transactions_one_session",
               m.two_transactions_one_session)
    suite.case("null_sender_helo_identity", m.null_sender_helo_identity)
    suite.stop_case(relay)


def run_actions_group(suite):
    """Non-default actions per SPF result."""
    relay = suite.relay("actions", spf="softfail = reject\nfail = defer\n"
                        "permerror = accept\ntemperror = reject\n")
    port, sink = relay.port, suite.sink

    def mail_reply(sender):
        with greet(port) as c:
            return c.cmd("MAIL FROM:<%s>" % sender, 15)

    def softfail_reject():
        expect(mail_reply("a1@softfail.good.test"), 550, "5.7.23")

    def fail_defer():
        expect(mail_reply("a2@fail.good.test"), 451, "4.7.23")

    def temperror_reject():
        expect(mail_reply("a3@bogus.test"), 550, "5.7.24")

    def permerror_accept():
        token = "act-perm"
        sender = "%s@permerror.good.test" % token
        expect(deliver(port, sender, token), 250, "2.")
        spf_header_checks(sink.dump(token), "permerror", sender, "secure")

    suite.case("action_softfail_reject", softfail_reject)
    suite.case("action_fail_defer", fail_defer)
    suite.case("action_temperror_reject", temperror_reject)
    suite.case("action_permerror_accept", permerror_accept)
    suite.stop_case(relay)


def run_skip_group(suite):
    """skip_networks and skip_domains."""
    relay = suite.relay("skip", spf="skip_networks = 127.0.0.2/32\n"
                        "skip_domains = skipme.good.test\n")
    port, sink = relay.port, suite.sink

    def no_spf_headers(token, ip):
        d = sink.dump(token)
        check(not d.header("Received-SPF"), "Received-SPF present")
        check(not d.header("Authentication-Results"), "A-R present")
        received_checks(d, "client.good.test", ip=ip)

    def skip_domains():
        token = "skipdom-t1"
        expect(deliver(port, "%s@skipme.good.test" % token, token), 250,
               "2.")
        no_spf_headers(token, "127.0.0.1")
        kv = relay.wait_log(lambda kv: kv.get("sender") ==
                            "%s@skipme.good.test" % token, "transaction")
        check_eq(kv["spf"], "skipped", "logged spf")

    def skip_networks():
        token = "skipnet-t1"
        expect(deliver(port, "%s@fail.good.test" % token, token,
                       source="127.0.0.2"), 250, "2.")
        no_spf_headers(token, "127.0.0.2")

    def still_checked():
        with greet(port) as c:
            expect(c.cmd("MAIL FROM:<skipctl@fail.good.test>"), 550,
                   "5.7.23", "127.0.0.1 is not in skip_networks")

    suite.case("skip_domains_delivered", skip_domains)
    suite.case("skip_networks_delivered", skip_networks)
    suite.case("skip_others_still_checked", still_checked)
    suite.stop_case(relay)


def run_dns_timeout_group(suite):
    """Every DNS query goes to the black hole."""
    relay = suite.relay("dnstimeout", dnsconf="forward = 127.0.0.1@%d\n"
                        % suite.dns.hole_port)

    def timeout_deferred():
        with greet(relay.port) as c:
            t0 = time.monotonic()
            r = c.cmd("MAIL FROM:<dnsto-t1@good.test>", 15)
            took = time.monotonic() - t0
        expect(r, 451, "4.7.24", "MAIL")
        check(0.5 <= took <= 6.0, "answered after %.2fs; query_timeout is 1s"
              % took)
        check("dnsto-t1@" not in suite.sink.log(), "reached the backend")

    suite.case("dns_timeout_deferred", timeout_deferred)
    suite.stop_case(relay)


def run_backend_groups(suite, work):
    """Backend refusal, backend down, fail-over, XCLIENT attributes."""
    text = "Recipient address rejected: spfgate test says no"
    refuser = Sink(work, "refuser", ["-f", "RCPT", "-B", "550 5.1.1 " + text])
    dead = free_port()      # nothing listens there
    relay = suite.relay("refuse", backends=[refuser.port])

    def rcpt_refused():
        with greet(relay.port) as c:
            expect(c.cmd("MAIL FROM:<ref-t1@good.test>"), 250)
            r = c.cmd("RCPT TO:<nobody@dest.example>")
            check_eq(r.lines, ["550 5.1.1 " + text], "relayed reply")
            expect(c.cmd("DATA"), 554, what="DATA without recipients")
            expect(c.cmd("RSET"), 250)

    suite.case("backend_refuses_rcpt_relayed", rcpt_refused)
    suite.stop_case(relay)
    stop_proc(refuser.proc)

    quitter = Sink(work, "quitter", ["-q", "."])
    relay = suite.relay("dotdrop", backends=[quitter.port])

    def backend_dies_at_dot():
        token = "dotdrop-t1"
        with greet(relay.port) as c:
            r = transaction(c, "%s@good.test" % token,
                            ["r-%s@dest.example" % token], message(token))
            expect(r, 451, "4.4.", "final reply when the backend hangs up")
            expect(c.cmd("NOOP"), 250, what="session after the failure")
        relay.wait_log(lambda kv: kv.get("sender") == "%s@good.test" % token
                       and kv.get("outcome") != "delivered", "transaction")

    suite.case("backend_dies_at_end_of_data", backend_dies_at_dot)
    suite.stop_case(relay)
    stop_proc(quitter.proc)

    relay = suite.relay("backenddown", backends=[dead],
                        backend="connect_timeout = 3s\n")

    def backend_down():
        with greet(relay.port) as c:
            r = c.cmd("MAIL FROM:<down-t1@good.test>", 15)
            expect(r, 451, "4.4.", "MAIL with the backend down")
            expect(c.cmd("RCPT TO:<x@dest.example>"), 503,
                   what="RCPT after the refused MAIL")
            r = c.cmd("MAIL FROM:<down-t2@good.test>", 15)
            expect(r, 451, "4.4.", "second MAIL")

    suite.case("backend_down_451", backend_down)
    suite.stop_case(relay)

    relay = suite.relay("failover", backends=[dead, suite.sink.port])

    def failover():
        token = "failover-t1"
        expect(deliver(relay.port, "%s@good.test" % token, token), 250, "2.")
        suite.sink.dump(token)
        relay.wait_log(lambda kv: kv.get("server") == "127.0.0.1:%d" % dead,
                       "backend_skip")

    suite.case("backend_failover", failover)
    suite.stop_case(relay)

    mta = FakeMta()
    try:
        relay = suite.relay("xclient", backends=[mta.port],
                            spf="skip_networks = 127.0.0.0/8\n")

        def xclient():
            c = greet(relay.port, "helo.client.test", source="127.0.0.2")
            cport = c.sock.getsockname()[1]
            with c:
                r = transaction(c, "xc-t1@good.test", ["r@dest.example"],
                                message("xc-t1"))
                expect(r, 250, "2.")
            with mta.lock:
                cmds = [l for _, l in mta.commands]
            xc = [l for l in cmds if l.upper().startswith("XCLIENT ")]
            check(xc, "no XCLIENT sent: %r" % cmds)
            attrs = dict(a.split("=", 1) for l in xc
                         for a in l.split(" ")[1:])
            for key, want in (("ADDR", "127.0.0.2"), ("PORT", str(cport)),
                              ("HELO", "helo.client.test"),
                              ("PROTO", "ESMTP"), ("DESTADDR", "127.0.0.1"),
                              ("DESTPORT", str(relay.port))):
                check_eq(attrs.get(key), want, "XCLIENT " + key)
            after = cmds[cmds.index(xc[-1]) + 1]
            check_eq(after, "EHLO helo.client.test", "EHLO after XCLIENT")
            check(any(b"Subject: xc-t1" in m for m in mta.messages),
                  "message not delivered")

        suite.case("backend_xclient_attributes", xclient)
        suite.stop_case(relay)
    finally:
        mta.stop()
    run_connection_cache_group(suite)


def run_connection_cache_group(suite):
    """[backend] connection_cache: kept connections, XCLIENT per session."""
    def sessions(relay, tokens):
        for i, token in enumerate(tokens):
            expect(deliver(relay.port, "%s@good.test" % token, token,
                           helo="c%d.client.test" % i,
                           source="127.0.0.%d" % (20 + i)), 250, "2.",
                   token)

    def commands(mta):
        with mta.lock:
            return list(mta.commands), mta.nconn

    def metric(port, name):
        """One unlabelled series from the relay's /metrics endpoint."""
        with urllib.request.urlopen("http://%s:%d/metrics" % (HOST, port),
                                    timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return int(float(line.split()[1]))
        return None

    def case(name, fn, mta_kw=None, server="", backend=""):
        """Runs fn(relay, mta) against its own FakeMta and relay."""
        mta = FakeMta(**(mta_kw or {}))
        try:
            relay = suite.relay(name, backends=[mta.port], server=server,
                                spf="skip_networks = 127.0.0.0/8\n",
                                backend=backend)
            suite.case(name, fn, relay, mta)
            suite.stop_case(relay)
        finally:
            mta.stop()

    mport = free_port()

    def reused(relay, mta):
        sessions(relay, ["cc-t1", "cc-t2", "cc-t3"])
        cmds, nconn = commands(mta)
        check_eq(nconn, 1, "backend connections for three sessions")
        xc = [l for c, l in cmds if l.startswith("XCLIENT ")]
        check_eq(len(xc), 3, "one XCLIENT per session")
        for i, line in enumerate(xc):
            check("ADDR=127.0.0.%d " % (20 + i) in line + " " and
                  "HELO=c%d.client.test" % i in line,
                  "XCLIENT %d names its own client: %r" % (i, line))
        after = [cmds[k + 1][1] for k, (c, l) in enumerate(cmds)
                 if l.startswith("XCLIENT ")]
        check_eq(after, ["EHLO c0.client.test", "EHLO c1.client.test",
                         "EHLO c2.client.test"], "EHLO after each")
        check(not any(l == "QUIT" for _, l in cmds), "QUIT sent")
        check_eq(len(mta.messages), 3, "messages delivered")
        check_eq(metric(mport, "spfgate_backend_connections_reused_total"),
                 2, "metric: sessions given a kept connection")
        check_eq(metric(mport, "spfgate_backend_connections_idle"), 1,
                 "metric: connections kept now")
        closed = wait_until(lambda: any(
            l == "<EOF>" for _, l in commands(mta)[0]), 5.0)
        check(closed, "idle connection not closed after 1s")
        check_eq(metric(mport, "spfgate_backend_connections_idle"), 0,
                 "metric: kept connections after the idle close")

    def rset_probe(relay, mta):
        sessions(relay, ["ccr-t1", "ccr-t2"])
        cmds, nconn = commands(mta)
        check_eq(nconn, 1, "backend connections for two sessions")
        verbs = [l.split(" ", 1)[0] for _, l in cmds]
        check_eq(verbs, ["EHLO", "MAIL", "RCPT", "DATA", "RSET", "MAIL",
                         "RCPT", "DATA"], "commands on the connection")

    def stale(relay, mta):
        sessions(relay, ["ccs-t1", "ccs-t2"])
        cmds, nconn = commands(mta)
        check_eq(nconn, 2, "a refused reuse leads to a new connection")
        check_eq(len(mta.messages), 2, "both messages delivered")
        relay.wait_log(lambda kv: kv.get("action") == "reconnect",
                       "backend_reuse_failed")
        check(not relay.log_lines("backend_skip"),
              "the refused reuse counted as a server failure")

    def nocache(relay, mta):
        sessions(relay, ["nc-t1", "nc-t2"])
        check_eq(commands(mta)[1], 2, "connections without the cache")

    case("backend_connection_reused", reused,
         server="metrics_listen = %s:%d\n" % (HOST, mport),
         backend="connection_cache_time = 1s\n")
    case("backend_connection_reused_rset", rset_probe,
         backend="xclient = no\n")
    case("backend_connection_reuse_refused", stale,
         mta_kw={"refuse_reuse": True})
    case("backend_connection_cache_off", nocache,
         backend="connection_cache = no\n")


def run_limits_group(suite):
    """Size, errors, timeouts."""
    relay = suite.relay("limits", server="max_message_size = 64K\n"
                        "max_errors = 3\ntimeout_command = 2s\n"
                        "timeout_data = 3s\n")
    port = relay.port

    def too_big():
        token = "big-t1"
        body = ("z" * 98 + "\r\n") * 1000        # 100 000 octets
        with greet(port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            c.send(message(token, body) + ".\r\n")
            expect(c.reply(20), 552, "5.3.4", "end of data")
            expect(c.cmd("RSET"), 250, what="RSET afterwards")
            expect(c.cmd("MAIL FROM:<%s-b@good.test> SIZE=100000" % token),
                   552, "5.3.4", "declared SIZE")
        suite.sink.assert_absent(token)

    def too_many_errors():
        with greet(port) as c:
            expect(c.cmd("BOGUS1"), 500)
            expect(c.cmd("BOGUS2"), 500)
            expect(c.cmd("BOGUS3"), 500)
            expect(c.reply(), 421, "4.7.0", "after max_errors")
            check(c.eof(), "not closed after 421")

    def command_timeout():
        with greet(port) as c:
            t0 = time.monotonic()
            r = c.reply(10)
            took = time.monotonic() - t0
            expect(r, 421, "4.4.2", "idle client")
            check(1.5 <= took <= 4.5, "timeout after %.2fs, want ~2s" % took)
            check(c.eof(), "not closed after 421")

    def command_timeout_trickle():
        # The deadline covers the whole command line: bytes trickling in
        # without a line end must not extend it.
        with greet(port) as c:
            got = trickle(c, "NOOP " + "x" * 15, 0.3)
            check(got is not None, "no reply while trickling for 6s")
            expect(c.reply(5), 421, "4.4.2", "trickling client")
            check(got <= 3.5, "421 after %.2fs, want ~2s" % got)

    def data_timeout_total():
        # timeout_data bounds the whole content, however steadily it flows.
        token = "datato-t1"
        with greet(port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            got = trickle(c, [message(token, "")] +
                          ["line %d\r\n" % i for i in range(20)], 0.4)
            check(got is not None, "no reply while DATA went on for 8s")
            expect(c.reply(5), 421, "4.4.2", "slow DATA")
            check(2.5 <= got <= 4.5, "421 after %.2fs, want ~3s" % got)
        suite.sink.assert_absent(token)

    def command_timeout_overlong_trickle():
        # After "500 line too long" the rest of the line is read and
        # dropped; trickling it must not keep the session alive either.
        with greet(port) as c:
            c.send("NOOP " + "x" * 600)
            expect(c.reply(5), 500, "5.5.2", "long line")
            got = trickle(c, ["x" * 100] * 20, 0.3)
            check(got is not None, "no reply while trickling for 6s")
            expect(c.reply(5), 421, "4.4.2", "trickling an overlong line")
            check(got <= 3.5, "421 after %.2fs, want ~2s" % got)

    suite.case("message_too_big", too_big)
    suite.case("data_timeout_total", data_timeout_total)
    suite.case("too_many_errors", too_many_errors)
    suite.case("command_timeout", command_timeout)
    suite.case("command_timeout_trickle", command_timeout_trickle)
    suite.case("command_timeout_overlong_trickle",
               command_timeout_overlong_trickle)
    suite.stop_case(relay)


def run_greet_group(suite):
    """greet_delay."""
    relay = suite.relay("greet", server="greet_delay = 1s\n"
                        "timeout_command = 2s\n")

    def pregreet():
        with Client(relay.port) as c:
            c.send("EHLO early.client.test\r\n")
            r = c.reply(5)
            expect(r, 554, what="client talking first")
            check(c.eof(), "not closed after 554")

    def patient():
        t0 = time.monotonic()
        with Client(relay.port) as c:
            expect(c.reply(5), 220)
            took = time.monotonic() - t0
            check(took >= 0.9, "greeting after %.2fs, want >= 1s" % took)
            expect(c.cmd("QUIT"), 221)

    def idle_after_greeting():
        # The command deadline starts with the (delayed) greeting.
        with Client(relay.port) as c:
            expect(c.reply(5), 220)
            t0 = time.monotonic()
            try:
                r = c.reply(6)
            except Failure as e:
                raise Failure("no 421 within 6s of the greeting (%s)" % e)
            took = time.monotonic() - t0
            expect(r, 421, "4.4.2", "idle after the greeting")
            check(1.5 <= took <= 4.5, "421 after %.2fs, want ~2s" % took)

    suite.case("greet_delay_pregreet_554", pregreet)
    suite.case("greet_delay_idle_timeout", idle_after_greeting)
    suite.case("greet_delay_patient_client", patient)
    suite.stop_case(relay)


def worker_rss_kib(relay):
    """Resident memory of the relay's (one) worker, in KiB."""
    total = 0
    for pid in relay.workers:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run_client_io_group(suite):
    """Half-closing clients, clients that do not read."""
    relay = suite.relay("clientio")

    def half_close_commands():
        with greet(relay.port) as c:
            c.send("MAIL FROM:<hc-t1@good.test>\r\n"
                   "RCPT TO:<r-hc-t1@dest.example>\r\nQUIT\r\n")
            c.sock.shutdown(socket.SHUT_WR)
            expect(c.reply(), 250, "2.", "MAIL after the client's EOF")
            expect(c.reply(), 250, "2.", "RCPT after the client's EOF")
            expect(c.reply(), 221, what="QUIT after the client's EOF")
            check(c.eof(), "not closed after 221")

    def half_close_after_dot():
        token = "hc-t2"
        with greet(relay.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            c.send(message(token).encode() + b".\r\nQUIT\r\n")
            c.sock.shutdown(socket.SHUT_WR)
            expect(c.reply(30), 250, "2.", "final reply after the EOF")
            expect(c.reply(), 221, what="QUIT after the EOF")
            check(c.eof(), "not closed after 221")
        suite.sink.dump(token)
        check(not relay.log_lines("client_lost"),
              "a delivered message was logged as lost")

    def half_close_mid_message():
        token = "hc-t3"
        with greet(relay.port) as c:
            expect(c.cmd("MAIL FROM:<%s@good.test>" % token), 250)
            expect(c.cmd("RCPT TO:<r-%s@dest.example>" % token), 250)
            expect(c.cmd("DATA"), 354)
            c.send(message(token, "no end in sight\r\n"))
            c.sock.shutdown(socket.SHUT_WR)
            check(c.eof(), "not closed after an EOF inside the message")
            check(c.buf == b"", "a reply to an unfinished message: %r"
                  % c.buf)
        relay.wait_log(lambda kv: kv.get("state") == "DATA_BODY",
                       "client_lost")
        suite.sink.assert_absent(token)

    def reply_flood():
        count = 3000000         # 18 MB of commands, 42 MB of replies
        before = worker_rss_kib(relay)
        c = greet(relay.port, source="127.0.0.3")
        flood = b"NOOP\r\n" * count
        sender = threading.Thread(target=c.sock.sendall, args=(flood,),
                                  daemon=True)
        sender.start()
        time.sleep(2.0)         # the relay answers into a client that waits
        grown = worker_rss_kib(relay) - before
        # Bounded: about 0.3 MB measured; 40 MB before replies were capped.
        check(grown < 16 * 1024, "worker grew by %d KiB while its client "
              "did not read" % grown)
        seen, tail = 0, b""
        deadline = time.monotonic() + 60
        while seen < count and time.monotonic() < deadline:
            c.sock.settimeout(max(0.1, deadline - time.monotonic()))
            data = c.sock.recv(1 << 20)
            if not data:
                break
            lines = (tail + data).split(b"\n")
            tail = lines.pop()
            seen += sum(1 for l in lines if l.startswith(b"250 2.0.0"))
        check_eq(seen, count, "NOOP replies received")
        sender.join(10)
        expect(c.cmd("QUIT"), 221, what="QUIT after the flood")
        c.close()

    def close_linger(relay):
        # Enough NOOPs that the replies fill every kernel buffer, then
        # silence: the 2s command timeout's 421 cannot be flushed, and the
        # session must still end (after the 10s close linger).
        c = Client(relay.port, source="127.0.0.4")
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        expect(c.reply(), 220, what="greeting")

        def send_all():
            try:
                c.sock.settimeout(40)
                c.sock.sendall(b"NOOP\r\n" * 2000000)
            except OSError:
                pass            # the relay stopped reading, then closed
        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        kv = relay.wait_log(lambda kv: kv.get("client") == "127.0.0.4",
                            "close_linger_over", timeout=40)
        check(kv is not None, "a client that never reads kept its session")
        c.close()
        sender.join(10)

    suite.case("half_close_commands_answered", half_close_commands)
    suite.case("half_close_after_final_dot", half_close_after_dot)
    suite.case("half_close_inside_message", half_close_mid_message)
    suite.case("reply_flood_bounded", reply_flood)
    suite.stop_case(relay)
    relay = suite.relay("clientlinger", server="timeout_command = 2s\n")
    suite.case("close_linger_for_non_reading_client", close_linger, relay)
    suite.stop_case(relay)


def open_files_soft(relay):
    """The worker's soft RLIMIT_NOFILE, from /proc."""
    with open("/proc/%d/limits" % relay.workers[0]) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def run_fd_limit_group(suite):
    """Descriptor limit raised for max_connections; a burst of clients."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = min(3000, (hard - 512) // 2)
    relay = suite.relay("fdraise", prefix=["prlimit",
                                           "--nofile=512:%d" % hard],
                        server="max_connections = %d\n"
                        "max_connections_per_ip = 0\n" % conns)

    def raised():
        check_eq(open_files_soft(relay), 2 * conns + 256,
                 "worker's soft descriptor limit (started with 512)")
        check(not relay.log_lines("fd_limit_low"), "fd_limit_low logged")

    def burst():
        # Every client connects at once: the listen backlog must hold
        # them (it was 128: clients then waited for SYN-ACK retransmits).
        n = min(conns - 10, 2500)
        socks, greeted = [], 0
        sel = selectors.DefaultSelector()
        try:
            for _ in range(n):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((HOST, relay.port))
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            deadline = time.monotonic() + 15
            while greeted < n and time.monotonic() < deadline:
                for key, _ in sel.select(0.5):
                    sel.unregister(key.fileobj)
                    try:
                        if key.fileobj.recv(64).startswith(b"220 "):
                            greeted += 1
                    except OSError:
                        pass
            check_eq(greeted, n, "clients greeted within 15 s")
        finally:
            sel.close()
            for s in socks:
                s.close()

    suite.case("fd_limit_raised_for_max_connections", raised)
    suite.case("connection_burst_all_greeted", burst)
    suite.stop_case(relay)

    relay = suite.relay("fdlow", prefix=["prlimit", "--nofile=512:1024"],
                        server="max_connections = 10000\n")

    def low():
        kv = relay.wait_log(lambda kv: True, "fd_limit_low")
        check_eq(kv.get("limit"), "1024", "fd_limit_low limit")
        check_eq(kv.get("needed"), "20256", "fd_limit_low needed")
        check_eq(open_files_soft(relay), 1024, "soft limit raised to hard")

    suite.case("fd_limit_low_logged", low)
    suite.stop_case(relay)


def run_conn_group(suite):
    """max_connections_per_ip and max_connections."""
    relay = suite.relay("conn", server="max_connections = 3\n"
                        "max_connections_per_ip = 2\n")

    def open_ok(source):
        c = Client(relay.port, source)
        expect(c.reply(), 220, what="connection from %s" % source)
        return c

    def refused(source, what):
        with Client(relay.port, source) as c:
            r = c.reply()
            expect(r, 421, "4.7.0", what)
            check(c.eof(), "not closed after 421")
            return r

    def per_ip():
        held = [open_ok("127.0.0.1"), open_ok("127.0.0.1")]
        try:
            r = refused("127.0.0.1", "third from one address")
            check("your address" in r.text, "reply text %r" % r.text)
            held.append(open_ok("127.0.0.2"))
        finally:
            for c in held:
                c.close()
        check(relay.wait_sessions_closed(), "sessions not closed")

    def total():
        held = [open_ok("127.0.0.1"), open_ok("127.0.0.2"),
                open_ok("127.0.0.3")]
        try:
            r = refused("127.0.0.4", "fourth overall")
            check("too many connections" in r.text, "reply %r" % r.text)
        finally:
            for c in held:
                c.close()
        check(relay.wait_sessions_closed(), "sessions not closed")
        with open_ok("127.0.0.4") as c:
            expect(c.cmd("QUIT"), 221, what="after the others left")

    suite.case("max_connections_per_ip", per_ip)
    suite.case("max_connections", total)
    suite.stop_case(relay)


def run_sigterm_group(suite):
    """SIGTERM with a client connected: 421, exit 0, nothing left."""
    relay = suite.relay("sigterm", server="")

    def sigterm():
        c = greet(relay.port)
        with c:
            workers = children_of(relay.proc.pid)
            check(workers, "no worker process found")
            rc_alive = [None]

            def stop():
                rc_alive[0] = relay.stop(20)
            t = threading.Thread(target=stop)
            t.start()
            r = c.reply(10)
            expect(r, 421, "4.3.2", "idle client at shutdown")
            check(c.eof(), "not closed after 421")
            t.join(25)
        rc, alive = rc_alive[0]
        check(rc == 0, "exit status %r" % rc)
        check(not alive and not any(pid_is_spfgate(p) for p in workers),
              "processes left: %r" % (alive or workers))
        reports = relay.sanitizer_reports()
        check(not reports, "sanitizer: %s" % reports[:3])
        with socket.socket() as s:
            check(s.connect_ex((HOST, relay.port)) != 0,
                  "the port still accepts connections")

    suite.case("sigterm_clean_exit", sigterm)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: relay_test.py PATH/TO/spfgate")
    spfgate = os.path.abspath(sys.argv[1])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    signal.signal(signal.SIGALRM, on_watchdog)
    signal.alarm(WATCHDOG_S)
    atexit.register(cleanup)
    need_tools()
    suite = Suite(spfgate)
    t0 = time.monotonic()
    keep = os.environ.get("RELAY_TEST_KEEP") == "1"
    try:
        suite.dns.make_zones()
        suite.dns.start_nsd()
        suite.dns.start_blackhole()
        suite.sink = Sink(suite.work, "sink")
        print("relay_test: work dir %s, nsd %d, black hole %d, sink %d"
              % (suite.work, suite.dns.port, suite.dns.hole_port,
                 suite.sink.port), flush=True)
        for group in (run_main_group, run_actions_group, run_skip_group,
                      run_dns_timeout_group, run_limits_group,
                      run_greet_group, run_conn_group, run_client_io_group,
                      run_fd_limit_group, run_sigterm_group):
            try:
                group(suite)
            except (Failure, RuntimeError, OSError) as e:
                suite.failed += 1
                print("FAIL %s: %s" % (group.__name__, e), flush=True)
        try:
            run_backend_groups(suite, suite.work)
        except (Failure, RuntimeError, OSError) as e:
            suite.failed += 1
            print("FAIL run_backend_groups: %s" % e, flush=True)
    finally:
        cleanup()
        if suite.failed or keep:
            print("relay_test: logs kept in %s" % suite.work, flush=True)
        else:
            shutil.rmtree(suite.work, ignore_errors=True)
    print("relay_test: %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
