#!/usr/bin/python3
"""postsrsd_compat.py - relay/srs.c against a running PostSRSd 1.x.

Usage: postsrsd_compat.py PATH/TO/srs_batch PATH/TO/postsrsd

An operator who moves from PostSRSd keeps its secrets file: addresses
PostSRSd signed must verify here and the other way round.  For three
configurations (hash length, separator), PostSRSd runs in the foreground
on 127.0.0.1 (free high ports, its Postfix tcp_table protocol: "get KEY"
-> "200 VALUE" / "500 reason"), reading the same secrets file as ours
("new" then "old"), and 300 pseudo-random senders per configuration go
through both:
  - forward: PostSRSd's and ours must be the same string;
  - ours reverses what PostSRSd made, as PostSRSd does; and the same with
    the hash in the other case, in the URL-safe alphabet (which PostSRSd
    2.2.6+ writes), and with one hash character changed (refused);
  - PostSRSd reverses what we made;
  - rotation: a PostSRSd that knows only "old" signs, ours verifies.
PostSRSd 1.x reads the real clock only, so both sides use it; a run that
straddles midnight is retried once.  Every server is killed by PID at the
end.  Prints "N passed, M failed"; exits non-zero on any failure.
"""
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

DOMAIN = "srs.example.net"
PER_CONFIG = 300
CONFIGS = [(4, "="), (8, "+"), (10, "-")]

passed = failed = shown = 0


def check(ok, what):
    global passed, failed, shown
    if ok:
        passed += 1
        return
    failed += 1
    if shown < 30:
        print("FAIL " + what, file=sys.stderr)
    shown += 1


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(b):
    """Postfix tcp_table quoting: %XX for non-graphic bytes and '%'."""
    return "".join(chr(c) if 0x21 <= c <= 0x7e and c != 0x25 else
                   "%%%02x" % c for c in b)


class PostSRSd:
    """One postsrsd process and a connection to each of its tables."""

    def __init__(self, binary, secrets, hash_length, sep):
        self.fport, self.rport = free_port(), free_port()
        self.proc = subprocess.Popen(
            [binary, "-s", secrets, "-d", DOMAIN, "-l", "127.0.0.1", "-4",
             "-f", str(self.fport), "-r", str(self.rport),
             "-n", str(hash_length), "-N", str(hash_length), "-a", sep,
             "-t", "60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.conn = {}
        deadline = time.monotonic() + 10
        for port in (self.fport, self.rport):
            while True:
                try:
                    s = socket.create_connection(("127.0.0.1", port), 1)
                    break
                except OSError:
                    if (time.monotonic() > deadline or
                            self.proc.poll() is not None):
                        self.close()
                        raise RuntimeError("postsrsd did not start")
                    time.sleep(0.05)
            s.settimeout(5)
            self.conn[port] = (s, s.makefile("rb"))

    def ask(self, port, key):
        s, f = self.conn[port]
        s.sendall(b"get " + encode(key.encode("latin-1")).encode() + b"\n")
        line = f.readline().rstrip(b"\n")
        if line.startswith(b"200 "):
            return "OK\t" + urllib.parse.unquote_to_bytes(
                line[4:].decode()).decode("latin-1")
        return "ERR"

    def forward(self, sender):
        return self.ask(self.fport, sender)

    def reverse(self, addr):
        return self.ask(self.rport, addr)

    def close(self):
        for s, f in self.conn.values():
            f.close()
            s.close()
        self.proc.kill()
        self.proc.wait()


def batch(tool, secrets, hash_length, sep, requests):
    """Runs (type, args...) requests through srs_batch on the clock."""
    text = "".join("\t".join([r[0], "-"] + list(r[1:])) + "\n"
                   for r in requests)
    out = subprocess.run(
        [tool, "--secrets", secrets, "--hash-length", str(hash_length),
         "--max-age", "21", "--separator", sep],
        input=text.encode("latin-1"), stdout=subprocess.PIPE, check=True)
    lines = out.stdout.decode("latin-1").split("\n")[:-1]
    if len(lines) != len(requests):
        raise RuntimeError("srs_batch answered %d of %d" %
                           (len(lines), len(requests)))
    return [("ERR" if line.startswith("ERR") else line) for line in lines]


LOCAL = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
         "._+-='!#$&*/?^`{|}~")


def rnd_local(rng):
    s = "".join(rng.choice(LOCAL) for _ in range(rng.randint(1, 24)))
    return s + ("\u00e9t\u00e9".encode().decode("latin-1")
                if rng.random() < 0.05 else "")


def rnd_domain(rng):
    labels = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                      for _ in range(rng.randint(1, 12)))
              for _ in range(rng.randint(1, 3))]
    d = ".".join(labels + [rng.choice(["com", "net", "org", "de"])])
    return d.upper() if rng.random() < 0.1 else d


def rnd_hash(rng, n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                              "qrstuvwxyz0123456789+/") for _ in range(n))


def rnd_sender(rng):
    """Plain, or another forwarder's SRS0 / SRS1 (not ours to verify)."""
    r = rng.random()
    plain = rnd_local(rng) + "@" + rnd_domain(rng)
    if r < 0.6:
        return plain
    user, host = plain.rsplit("@", 1)
    srs0 = "SRS0%s%s=%s=%s=%s" % (rng.choice("=+-"), rnd_hash(rng, 4),
                                  rnd_hash(rng, 2).upper().replace(
                                      "+", "A").replace("/", "B"),
                                  host, user)
    if r < 0.8:
        return srs0 + "@" + rnd_domain(rng)
    return "SRS1=%s=%s=%s@%s" % (rnd_hash(rng, 4), rnd_domain(rng),
                                 srs0[4:], rnd_domain(rng))


def swap_case_hash(addr):
    tag, rest = addr[:5], addr[5:]
    h, tail = rest.split("=", 1)
    return tag + h.swapcase() + "=" + tail


def url_safe(addr):
    tag, rest = addr[:5], addr[5:]
    h, tail = rest.split("=", 1)
    if "+" not in h and "/" not in h:
        return None
    return tag + h.replace("+", "-").replace("/", "_") + "=" + tail


def tamper(addr, rng):
    tag, rest = addr[:5], addr[5:]
    h, tail = rest.split("=", 1)
    i = rng.randrange(len(h))
    c = "z" if h[i].lower() == "q" else "q"
    return tag + h[:i] + c + h[i + 1:] + "=" + tail


def expected_reverse(sender):
    """What reversing our rewrite of sender gives (one step back)."""
    local, host = sender.rsplit("@", 1)
    if local[:4].upper() == "SRS1" and local[4:5] in "=+-":
        _, fhost, fuser = local[5:].split("=", 2)
        return "SRS0" + fuser + "@" + fhost
    if local[:4].upper() == "SRS0" and local[4:5] in "=+-":
        return "SRS0" + local[4:] + "@" + host
    return sender


def run_config(tool, binary, work, hash_length, sep, rng):
    secrets = os.path.join(work, "secrets")
    old_only = os.path.join(work, "old")
    senders = [rnd_sender(rng) for _ in range(PER_CONFIG)]
    name = "hash=%d sep=%s" % (hash_length, sep)
    psrs = PostSRSd(binary, secrets, hash_length, sep)
    old = PostSRSd(binary, old_only, hash_length, sep)
    try:
        for attempt in (1, 2):
            day = int(time.time()) // 86400
            theirs = [psrs.forward(s) for s in senders]
            ours = batch(tool, secrets, hash_length, sep,
                         [("F", s, DOMAIN) for s in senders])
            signed_old = [old.forward(s) for s in senders]
            if int(time.time()) // 86400 == day or attempt == 2:
                break
        reqs, want, what = [], [], []
        for s, t, o, so in zip(senders, theirs, ours, signed_old):
            check(t == o, "%s: forward %r: ours %r, PostSRSd %r" %
                  (name, s, o, t))
            if not t.startswith("OK\t"):
                continue
            a = t[3:]
            variants = [("as is", a), ("hash case swapped", swap_case_hash(a)),
                        ("url-safe", url_safe(a)), ("tampered", tamper(a, rng)),
                        ("signed with the old secret",
                         so[3:] if so.startswith("OK\t") else None)]
            for label, v in variants:
                if v is None:
                    continue
                reqs.append(("R", v))
                what.append("%s: reverse %s %r" % (name, label, v))
                want.append("ERR" if label == "tampered" else
                            "OK\t" + expected_reverse(s))
            if o.startswith("OK\t"):
                check(psrs.reverse(o[3:]) == "OK\t" + expected_reverse(s),
                      "%s: PostSRSd reverses ours %r" % (name, o))
        got = batch(tool, secrets, hash_length, sep, reqs)
        for g, w, label in zip(got, want, what):
            check(g == w, "%s: ours %r, want %r" % (label, g, w))
        # PostSRSd agrees on the reversals it can do itself.
        for (_, v), w, label in zip(reqs, want, what):
            if "url-safe" not in label:
                check(psrs.reverse(v) == w, "PostSRSd: " + label)
    finally:
        psrs.close()
        old.close()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: postsrsd_compat.py SRS_BATCH POSTSRSD")
    tool, binary = sys.argv[1], sys.argv[2]
    rng = random.Random(20240229)
    old_umask = os.umask(0o077)
    with tempfile.TemporaryDirectory(prefix="srs_postsrsd.") as work:
        with open(os.path.join(work, "secrets"), "w") as f:
            f.write("new secret\nold secret\n")
        with open(os.path.join(work, "old"), "w") as f:
            f.write("old secret\n")
        for hash_length, sep in CONFIGS:
            run_config(tool, binary, work, hash_length, sep, rng)
    os.umask(old_umask)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
