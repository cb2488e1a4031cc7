#!/usr/bin/python3
"""smtp_tls.py - scripted SMTP/TLS clients for tests/tls/run.sh.

usage: smtp_tls.py SCENARIO PORT [ARGS...]

Each scenario talks to spfgate on 127.0.0.1:PORT and prints one line per
check, "PASS: ..." or "FAIL: ...", and exits 1 if any check failed.
Debian's python3 standard library only (socket, ssl).  Every wait has a
timeout.

  inject PORT            CVE-2011-0411: "STARTTLS\\r\\nMAIL FROM:<x>\\r\\n" in
                         one write; nothing of the injected command may
                         be answered inside TLS; MAIL without EHLO -> 503;
                         EHLO no longer offers STARTTLS; STARTTLS -> 503
  late-plaintext PORT    plaintext sent after the 220 (instead of a
                         ClientHello) is never answered as SMTP
  requiretls PORT        MAIL before STARTTLS -> 530 5.7.0; after it: 250
  implicit PORT          TLS from the first byte: greeting, no STARTTLS,
                         a whole transaction
  proxy-implicit PORT    PROXY v1 header in plaintext, then TLS from the
                         next byte (implicit listener behind a proxy)
  hstimeout PORT SECS    STARTTLS then silence: closed within SECS + 3 s
  live PORT DIR          reload test: opens a TLS session, writes DIR/ready
                         and the SHA-256 of the certificate it got to
                         DIR/cert-before, waits (<= 60 s) for DIR/go, then
                         completes a transaction on the same session
"""
import hashlib
import os
import socket
import ssl
import sys
import time

TIMEOUT = 10.0
failures = 0


def check(ok, what):
    """Records and prints one check."""
    global failures
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures += 1
    return ok


class Conn:
    """A line-oriented SMTP connection, plain or TLS."""

    def __init__(self, port, implicit=False, sni=None):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=TIMEOUT)
        self.buf = b""
        if implicit:
            self.starttls_now(sni)

    def starttls_now(self, sni=None, rsa_only=False):
        """Wraps the socket in TLS (no verification: a test CA)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if rsa_only:
            # Python cannot limit TLS 1.3 signature algorithms: use 1.2.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
        if self.buf:
            raise RuntimeError("plaintext left before TLS: %r" % self.buf)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=sni)

    def send(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=TIMEOUT):
        """Reads one (multi-line) reply; returns (code, text) or (None, why)."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timeout"
                self.sock.settimeout(left)
                try:
                    chunk = self.sock.recv(4096)
                except (socket.timeout, TimeoutError):
                    return None, "timeout"
                except (ssl.SSLError, OSError) as e:
                    return None, "error: %s" % e
                if not chunk:
                    return None, "closed"
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                try:
                    return int(text[:3]), "\n".join(lines)
                except ValueError:
                    return None, "garbage: %r" % text

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def nothing_for(self, seconds):
        """1 if no byte of application data arrives for seconds."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(4096)
        except (socket.timeout, TimeoutError):
            return True, ""
        except (ssl.SSLError, OSError) as e:
            return False, "error: %s" % e
        return False, repr(chunk) if chunk else "closed"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def transaction(c, tag):
    """MAIL, RCPT, DATA on an EHLO'd connection; True if the end got 250."""
    code, text = c.cmd("MAIL FROM:<sender@%s.test>" % tag)
    if not check(code == 250, "%s: MAIL accepted (%s)" % (tag, text)):
        return False
    code, text = c.cmd("RCPT TO:<rcpt@%s.test>" % tag)
    if not check(code == 250, "%s: RCPT accepted (%s)" % (tag, text)):
        return False
    code, text = c.cmd("DATA")
    if not check(code == 354, "%s: DATA 354 (%s)" % (tag, text)):
        return False
    c.send(("Subject: %s\r\n\r\nbody of %s\r\n.\r\n" % (tag, tag)).encode())
    code, text = c.reply()
    return check(code == 250, "%s: message accepted (%s)" % (tag, text))


def ehlo(c, tag):
    code, text = c.cmd("EHLO client.%s.test" % tag)
    check(code == 250, "%s: EHLO answered 250" % tag)
    return text


def greet(c, tag):
    code, text = c.reply()
    return check(code == 220, "%s: greeting 220 (%s)" % (tag, text))


def sc_inject(port):
    c = Conn(port)
    greet(c, "inject")
    text = ehlo(c, "inject")
    check("STARTTLS" in text, "inject: STARTTLS offered before TLS")
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
    code, text = c.reply()
    check(code == 220, "inject: 220 to STARTTLS (%s)" % text)
    check(c.buf == b"", "inject: no reply to the injected command in "
          "plaintext (%r)" % c.buf)
    c.buf = b""
    try:
        c.starttls_now()
    except (ssl.SSLError, OSError) as e:
        check(False, "inject: handshake after discarded plaintext (%s)" % e)
        return
    check(True, "inject: handshake succeeded after the injection")
    quiet, got = c.nothing_for(1.5)
    check(quiet, "inject: no reply inside TLS to the injected MAIL (%s)"
          % got)
    code, text = c.cmd("MAIL FROM:<after@tls.test>")
    check(code == 503, "inject: MAIL without EHLO after TLS -> 503 (%s)"
          % text)
    text = ehlo(c, "inject-tls")
    check("STARTTLS" not in text, "inject: EHLO inside TLS no longer "
          "offers STARTTLS")
    code, text = c.cmd("STARTTLS")
    check(code == 503, "inject: second STARTTLS -> 503 (%s)" % text)
    transaction(c, "inject")
    code, text = c.cmd("QUIT")
    check(code == 221, "inject: QUIT 221 over TLS (%s)" % text)
    c.close()


def sc_late_plaintext(port):
    c = Conn(port)
    greet(c, "late")
    ehlo(c, "late")
    code, text = c.cmd("STARTTLS")
    check(code == 220, "late: 220 to STARTTLS")
    c.send(b"MAIL FROM:<late@evil.test>\r\n")
    deadline = time.monotonic() + 5
    data = b""
    c.sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            chunk = c.sock.recv(4096)
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    smtp_like = data[:1].isdigit()
    check(not smtp_like, "late: plaintext after 220 is not answered as SMTP "
          "(got %r)" % data[:40])
    c.close()


def sc_requiretls(port):
    c = Conn(port)
    greet(c, "require")
    ehlo(c, "require")
    code, text = c.cmd("MAIL FROM:<plain@require.test>")
    check(code == 530 and "5.7.0" in text,
          "require: MAIL before STARTTLS -> 530 5.7.0 (%s)" % text)
    code, text = c.cmd("STARTTLS")
    check(code == 220, "require: 220 to STARTTLS")
    c.starttls_now()
    ehlo(c, "require-tls")
    transaction(c, "require")
    c.cmd("QUIT")
    c.close()


def sc_implicit(port):
    try:
        c = Conn(port, implicit=True)
    except (ssl.SSLError, OSError) as e:
        check(False, "implicit: TLS from the first byte (%s)" % e)
        return
    greet(c, "implicit")
    text = ehlo(c, "implicit")
    check("STARTTLS" not in text, "implicit: no STARTTLS offered over TLS")
    code, text = c.cmd("STARTTLS")
    check(code in (502, 503), "implicit: STARTTLS refused (%s)" % text)
    transaction(c, "implicit")
    code, text = c.cmd("QUIT")
    check(code == 221, "implicit: QUIT 221")
    c.close()


def sc_proxy_implicit(port):
    c = Conn(port)
    c.send(b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 465\r\n")
    try:
        c.starttls_now(sni="other.test")
    except (ssl.SSLError, OSError) as e:
        check(False, "proxy-implicit: TLS after the PROXY header (%s)" % e)
        return
    check(True, "proxy-implicit: TLS after the PROXY header")
    greet(c, "proxy-implicit")
    text = ehlo(c, "proxy-implicit")
    check("STARTTLS" not in text, "proxy-implicit: no STARTTLS over TLS")
    code, text = c.cmd("QUIT")
    check(code == 221, "proxy-implicit: QUIT 221")
    c.close()


def sc_hstimeout(port, secs):
    c = Conn(port)
    greet(c, "hstimeout")
    ehlo(c, "hstimeout")
    code, text = c.cmd("STARTTLS")
    check(code == 220, "hstimeout: 220 to STARTTLS")
    start = time.monotonic()
    c.sock.settimeout(secs + 3)
    try:
        data = c.sock.recv(4096)
        closed = data == b""
    except (socket.timeout, TimeoutError):
        closed = False
    except OSError:
        closed = True
    took = time.monotonic() - start
    check(closed and took >= secs - 0.5,
          "hstimeout: silent client closed after %.1f s (limit %d s)"
          % (took, secs))
    c.close()


def wait_file(path, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


def sc_live(port, directory):
    c = Conn(port)
    greet(c, "live")
    ehlo(c, "live")
    code, text = c.cmd("STARTTLS")
    check(code == 220, "live: 220 to STARTTLS")
    c.starttls_now(sni="mail.test", rsa_only=True)
    ehlo(c, "live-tls")
    der = c.sock.getpeercert(binary_form=True)
    with open(os.path.join(directory, "cert-before"), "w") as f:
        f.write(hashlib.sha256(der).hexdigest() + "\n")
    open(os.path.join(directory, "ready"), "w").close()
    if not check(wait_file(os.path.join(directory, "go"), 60),
                 "live: the reload happened"):
        return
    transaction(c, "live")
    code, text = c.cmd("QUIT")
    check(code == 221, "live: QUIT 221 on the session opened before reload")
    c.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    scenarios = {
        "inject": lambda: sc_inject(port),
        "late-plaintext": lambda: sc_late_plaintext(port),
        "requiretls": lambda: sc_requiretls(port),
        "implicit": lambda: sc_implicit(port),
        "proxy-implicit": lambda: sc_proxy_implicit(port),
        "hstimeout": lambda: sc_hstimeout(port, int(args[0])),
        "live": lambda: sc_live(port, args[0]),
    }
    if name not in scenarios:
        print("unknown scenario %s" % name, file=sys.stderr)
        return 2
    try:
        scenarios[name]()
    except (OSError, ssl.SSLError) as e:
        check(False, "%s: connection failed: %s" % (name, e))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
