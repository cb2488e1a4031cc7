#!/usr/bin/python3
"""proxy_relay_test.py - spfgate behind a real HAProxy speaking PROXY v1/v2.

Usage: proxy_relay_test.py SPFGATE

Rig (loopback only): smtp-sink as the backend, spfgate with a
proxy_protocol listener trusting 127.0.0.1, HAProxy in TCP mode with one
frontend per PROXY version in front of it.  A client bound to 127.0.0.5
talks through HAProxy; spfgate must see 127.0.0.5, not the proxy, in its
log, in the Received header it adds, and for its connection limits.  A
client connecting straight to the proxy listener from an untrusted
address gets 421.  An implicit-TLS proxy listener must take a PROXY
header and the ClientHello that follows it in the same segment, and
serve TLS clients through HAProxy.  Prints "N passed, N failed".
"""

import glob
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

PASSED = FAILED = 0
PROCS = []


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok   %s" % name)
    else:
        FAILED += 1
        print("FAIL %s: %s" % (name, detail))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start(argv, log):
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def smtp(port, source, sender, rcpt, seconds=10, tls=False):
    """One transaction from source (over implicit TLS with tls); returns
    the replies as a list, then "error: ..." if the connection broke."""
    raw = socket.socket()
    raw.settimeout(seconds)
    raw.bind((source, 0))
    raw.connect(("127.0.0.1", port))
    replies = []

    def reply(f):
        lines = []
        while True:
            line = f.readline().decode("ascii", "replace")
            if not line:
                break
            lines.append(line.rstrip("\r\n"))
            if len(line) < 4 or line[3] != "-":
                break
        replies.append(" | ".join(lines))
        return lines[-1] if lines else ""

    try:
        s = raw
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(raw)
        f = s.makefile("rb")
        if not reply(f).startswith("220"):
            return replies
        for cmd in ("EHLO client.proxy.test", "MAIL FROM:<%s>" % sender,
                    "RCPT TO:<%s>" % rcpt, "DATA"):
            s.sendall((cmd + "\r\n").encode())
            if not reply(f)[:1] in ("2", "3"):
                return replies
        s.sendall(b"Subject: via proxy\r\n\r\nhello\r\n.\r\n")
        reply(f)
        s.sendall(b"QUIT\r\n")
        reply(f)
    except (OSError, ssl.SSLError) as e:
        replies.append("error: %s" % e)
    finally:
        raw.close()
    return replies


def tls_after_header(port, header, seconds=10):
    """Sends header and the ClientHello in one segment, finishes the
    handshake; returns (greeting, EHLO reply, TLS version) over TLS."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing)
    s = socket.create_connection(("127.0.0.1", port), seconds)
    deadline = time.time() + seconds

    def pump():
        data = s.recv(65536)
        if not data:
            raise EOFError("connection closed")
        incoming.write(data)

    def send_pending():
        if outgoing.pending:
            s.sendall(outgoing.read())

    def line_reply():
        buf = b""
        while time.time() < deadline:
            try:
                buf += tls.read(4096)
            except ssl.SSLWantReadError:
                pump()
                continue
            if any(len(l) >= 4 and l[3:4] == b" "
                   for l in buf.split(b"\r\n")):
                break
        return buf.decode("ascii", "replace")

    try:
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        s.sendall(header + outgoing.read())     # one write, one segment
        while time.time() < deadline:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                send_pending()
                pump()
        send_pending()
        greeting = line_reply()
        tls.write(b"EHLO tls.proxy.test\r\n")
        send_pending()
        ehlo = line_reply()
        tls.write(b"QUIT\r\n")
        send_pending()
        return greeting, ehlo, tls.version()
    finally:
        s.close()


def main():
    spfgate = os.path.abspath(sys.argv[1])
    for tool in ("haproxy", "smtp-sink"):
        if shutil.which(tool) is None and not os.path.exists(
                "/usr/sbin/" + tool):
            subprocess.run(["apt-get", "install", "-y", "-q", "haproxy",
                            "postfix"], stdout=subprocess.DEVNULL,
                           env=dict(os.environ,
                                    DEBIAN_FRONTEND="noninteractive"))
    work = tempfile.mkdtemp(prefix="spfgate-proxy-")
    os.chmod(work, 0o755)
    dump = os.path.join(work, "mail")
    os.mkdir(dump)
    shutil.chown(dump, "nobody")
    sink_port, relay_port = free_port(), free_port()
    v1_port, v2_port = free_port(), free_port()
    tls_relay_port, tls_v1_port = free_port(), free_port()
    try:
        cert, key = (os.path.join(work, "cert.pem"),
                     os.path.join(work, "key.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "2", "-subj", "/CN=relay.proxy.test",
                        "-keyout", key, "-out", cert],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        os.chmod(key, 0o600)
        start(["smtp-sink", "-u", "nobody", "-d", dump + "/%M.",
               "127.0.0.1:%d" % sink_port, "100"],
              open(os.path.join(work, "sink.log"), "w"))
        conf = os.path.join(work, "spfgate.conf")
        with open(conf, "w") as f:
            f.write("[server]\nhostname = relay.proxy.test\nworkers = 1\n"
                    "max_connections_per_ip = 1\n"
                    "[listener lb]\naddress = 127.0.0.1:%d\n"
                    "proxy_protocol = yes\n"
                    "trusted_proxies = 127.0.0.1/32\n"
                    "[listener lbtls]\naddress = 127.0.0.1:%d\n"
                    "proxy_protocol = yes\ntls = implicit\n"
                    "trusted_proxies = 127.0.0.1/32\n"
                    "[certificate test]\ncert_file = %s\nkey_file = %s\n"
                    "[spf]\nskip_networks = 127.0.0.0/8\n"
                    "[dns]\ndnssec = no\nforward = 127.0.0.1@9\n"
                    "[backend]\nservers = 127.0.0.1:%d\n"
                    % (relay_port, tls_relay_port, cert, key, sink_port))
        relay_log = os.path.join(work, "spfgate.log")
        relay = start([spfgate, "serve", "-c", conf], open(relay_log, "w"))
        hcfg = os.path.join(work, "haproxy.cfg")
        with open(hcfg, "w") as f:
            f.write("global\n  maxconn 100\ndefaults\n  mode tcp\n"
                    "  timeout connect 5s\n  timeout client 30s\n"
                    "  timeout server 30s\n"
                    "frontend v1\n  bind 127.0.0.1:%d\n  default_backend b1\n"
                    "frontend v2\n  bind 127.0.0.1:%d\n  default_backend b2\n"
                    "backend b1\n  server s 127.0.0.1:%d send-proxy\n"
                    "backend b2\n  server s 127.0.0.1:%d send-proxy-v2\n"
                    "frontend v1tls\n  bind 127.0.0.1:%d\n"
                    "  default_backend b1tls\n"
                    "backend b1tls\n  server s 127.0.0.1:%d send-proxy\n"
                    % (v1_port, v2_port, relay_port, relay_port,
                       tls_v1_port, tls_relay_port))
        start(["haproxy", "-db", "-f", hcfg],
              open(os.path.join(work, "haproxy.log"), "w"))
        ok = all(wait_port(p) for p in (sink_port, relay_port, v1_port,
                                         v2_port, tls_relay_port,
                                         tls_v1_port))
        check("rig-up", ok, "a server did not start")

        for name, port, src in (("v1", v1_port, "127.0.0.5"),
                                ("v2", v2_port, "127.0.0.6")):
            before = set(glob.glob(dump + "/*"))
            replies = smtp(port, src, "a@sender.test", "b@dest.test")
            check("%s-delivered" % name, any(r.startswith("250 2.0.0")
                                             for r in replies), replies)
            time.sleep(0.3)
            new = sorted(set(glob.glob(dump + "/*")) - before)
            body = open(new[0]).read() if new else ""
            check("%s-received-header-names-client" % name,
                  "by relay.proxy.test (spfgate)" in body and
                  "[%s]" % src in body, body[:600])
            log = open(relay_log).read()
            check("%s-log-names-client" % name,
                  "event=proxy client=%s" % src in log, log[-800:])

        # A client straight on the proxy port from an untrusted address.
        replies = smtp(relay_port, "127.0.0.9", "a@sender.test",
                       "b@dest.test")
        check("untrusted-peer-refused", replies and
              replies[0].startswith("421 4.7.0"), replies)

        # Per-IP limit counts the client behind the proxy: a second
        # connection from 127.0.0.5 while one is open is refused, one
        # from another client is not.
        hold = socket.socket()
        hold.bind(("127.0.0.5", 0))
        hold.connect(("127.0.0.1", v1_port))
        hold.settimeout(5)
        greeting = hold.recv(512)
        replies = smtp(v1_port, "127.0.0.5", "a@sender.test", "b@dest.test")
        check("per-ip-limit-uses-real-client", greeting.startswith(b"220")
              and replies and replies[0].startswith("421 4.7.0"),
              (greeting, replies))
        replies = smtp(v1_port, "127.0.0.7", "a@sender.test", "b@dest.test")
        check("other-client-still-served", any(
            r.startswith("250 2.0.0") for r in replies), replies)
        hold.close()

        # Implicit TLS behind a proxy: the header and the ClientHello in
        # one segment (the TLS layer must start with the bytes already
        # read after the header).
        for name, header in (
                ("v1", b"PROXY TCP4 127.0.0.8 127.0.0.1 4000 465\r\n"),
                ("v2", b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"
                       b"\x7f\x00\x00\x09\x7f\x00\x00\x01\x0f\xa0\x01\xd1")):
            try:
                greeting, ehlo, version = tls_after_header(tls_relay_port,
                                                           header)
            except (OSError, ssl.SSLError, EOFError) as e:
                greeting, ehlo, version = "error: %s" % e, "", None
            check("tls-%s-header-and-clienthello-in-one-segment" % name,
                  greeting.startswith("220 ") and "250 " in ehlo and
                  version is not None, (greeting, ehlo, version))
        log = open(relay_log).read()
        check("tls-header-names-client", "event=proxy client=127.0.0.8"
              in log and "event=proxy client=127.0.0.9" in log, log[-800:])

        before = set(glob.glob(dump + "/*"))
        replies = smtp(tls_v1_port, "127.0.0.10", "a@sender.test",
                       "b@dest.test", tls=True)
        check("tls-through-haproxy-delivered", any(
            r.startswith("250 2.0.0") for r in replies), replies)
        time.sleep(0.3)
        new = sorted(set(glob.glob(dump + "/*")) - before)
        body = open(new[0]).read() if new else ""
        check("tls-through-haproxy-received-header", "[127.0.0.10]" in body
              and "TLS" in body, body[:600])

        # A malformed header: the connection is dropped without a reply.
        s = socket.create_connection(("127.0.0.1", relay_port), 5)
        s.sendall(b"PROXY TCP4 1.2.3.4 nonsense\r\n")
        data = s.recv(512)
        s.close()
        check("malformed-header-dropped", data == b"", data)

        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=40)
        check("clean-stop", relay.returncode == 0, relay.returncode)
        log = open(relay_log).read()
        check("no-sanitizer-reports", "AddressSanitizer" not in log and
              "runtime error:" not in log, log[-800:])
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.terminate()
        for p in PROCS:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
