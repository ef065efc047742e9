#!/usr/bin/env python3
"""A client that stops reading: for the backpressure tests.

Usage: slow_client.py PORT PATH [RCVBUF]

Sets SO_RCVBUF (default 4096) before connecting, so the kernel cannot absorb
much of what the server writes; sends a GET, reads the response head and
prints {"ready": true}. Then it reads nothing until a line arrives on stdin,
after which it reads until the server ends the response (EOF, or the
terminal chunk of a chunked body) and prints one JSON line with every byte
it received (head included) in base64. Bounded: 30 s without progress ends
it with "timeout": true.
"""
import base64
import json
import socket
import sys

port = int(sys.argv[1])
path = sys.argv[2]
rcvbuf = int(sys.argv[3]) if len(sys.argv) > 3 else 4096

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.settimeout(30)
s.connect(("127.0.0.1", port))
s.sendall(
    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
)

received = bytearray()
result = {"timeout": False, "reset": False, "eof": False}
try:
    while b"\r\n\r\n" not in received:
        chunk = s.recv(1)  # byte by byte: the body stays in the kernel
        if not chunk:
            break
        received += chunk
except socket.timeout:
    result["timeout"] = True

print(json.dumps({"ready": True, "rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)}), flush=True)
if not result["timeout"]:
    sys.stdin.readline()
    chunked = b"transfer-encoding: chunked" in bytes(received).lower()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                result["eof"] = True
                break
            received += chunk
            if chunked and received.endswith(b"\r\n0\r\n\r\n"):
                break
    except socket.timeout:
        result["timeout"] = True
    except ConnectionResetError:
        result["reset"] = True
s.close()
result["raw"] = base64.b64encode(bytes(received)).decode()
print(json.dumps(result), flush=True)
