#!/usr/bin/env python3
"""Many clients that never read: for the slow-consumer tests.

Usage: stalled_clients.py PORT PATH N [RCVBUF]

Opens N connections with SO_RCVBUF set (default 4096) before connecting, so
the kernel absorbs little of what the server writes; sends a GET on each,
reads each response head (small reads: the body stays in the kernel) and
prints {"ready": N}. Then reads nothing until a line arrives on stdin, and
exits, closing every socket. Bounded: it exits by itself after 60 s.
"""
import json
import select
import socket
import sys

port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rcvbuf = int(sys.argv[4]) if len(sys.argv) > 4 else 4096

socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    socks.append(s)

heads = 0
for s in socks:
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(1)
        if not chunk:
            break
        got += chunk
    heads += b"\r\n\r\n" in got

print(json.dumps({"ready": heads}), flush=True)
select.select([sys.stdin], [], [], 60)
for s in socks:
    s.close()
