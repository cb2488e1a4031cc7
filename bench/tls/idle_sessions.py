#!/usr/bin/python3
"""idle_sessions.py - opens N idle SMTP sessions to spfgate and reports how
much the worker's resident memory grew per session.

usage: idle_sessions.py PORT WORKER_PID N plain|starttls

Each session is greeted and says EHLO; with starttls it then runs
STARTTLS, the TLS handshake and EHLO again, and stays open and silent.
The worker's VmRSS (/proc/PID/status) is read after a warm-up of 20
sessions opened and closed, and again with all N sessions open; printed:
"mode=... sessions=N rss_before_kib=... rss_after_kib=... bytes_per_session=...".
Debian's python3 standard library only; every wait is bounded.
"""
import socket
import ssl
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def read_reply(sock):
    buf = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("closed")
        buf += chunk
        lines = buf.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return line
    raise RuntimeError("timeout")


def open_session(port, mode, ctx):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    read_reply(s)
    s.sendall(b"EHLO idle.test\r\n")
    read_reply(s)
    if mode == "starttls":
        s.sendall(b"STARTTLS\r\n")
        if not read_reply(s).startswith(b"220"):
            raise RuntimeError("STARTTLS refused")
        s = ctx.wrap_socket(s, server_hostname="mail.test")
        s.sendall(b"EHLO idle.test\r\n")
        read_reply(s)
    return s


def main():
    port, pid, n, mode = (int(sys.argv[1]), int(sys.argv[2]),
                          int(sys.argv[3]), sys.argv[4])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for s in [open_session(port, mode, ctx) for _ in range(20)]:
        s.close()
    time.sleep(1)
    before = rss_kib(pid)
    sessions = [open_session(port, mode, ctx) for _ in range(n)]
    time.sleep(1)
    after = rss_kib(pid)
    print("mode=%s sessions=%d rss_before_kib=%d rss_after_kib=%d "
          "bytes_per_session=%d" % (mode, n, before, after,
                                    (after - before) * 1024 // n))
    for s in sessions:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
