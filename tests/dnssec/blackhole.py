#!/usr/bin/python3
"""blackhole.py - a DNS server that never answers (spfgate DNSSEC rig).

Usage: blackhole.py PORTFILE LIFETIME_SECONDS

Binds UDP and TCP on the same free port of 127.0.0.1, writes the port to
PORTFILE once both are bound, then reads and discards everything (UDP
datagrams, TCP connections and their bytes) without ever replying.  Exits by
itself after LIFETIME_SECONDS so that a forgotten instance cannot linger;
normally the rig kills it by PID first.
"""
import os
import select
import socket
import sys
import time


def bind_pair():
    """Returns (udp, tcp) bound to one port of 127.0.0.1."""
    for _ in range(50):
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind(("127.0.0.1", port))
        except OSError:
            tcp.close()
            udp.close()
            continue
        tcp.listen(64)
        return udp, tcp
    sys.exit("blackhole: no free port pair")


def main():
    portfile, lifetime = sys.argv[1], float(sys.argv[2])
    udp, tcp = bind_pair()
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % tcp.getsockname()[1])
    os.rename(tmp, portfile)
    conns = []
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        ready, _, _ = select.select([udp, tcp] + conns, [], [], 0.5)
        for s in ready:
            if s is udp:
                udp.recvfrom(65535)
            elif s is tcp:
                c, _ = tcp.accept()
                conns.append(c)
                if len(conns) > 256:
                    conns.pop(0).close()
            elif not s.recv(65535):
                conns.remove(s)
                s.close()


if __name__ == "__main__":
    main()
