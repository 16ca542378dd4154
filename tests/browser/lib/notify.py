#!/usr/bin/python3
"""sd_notify's receiving end for the browser tests: binds the datagram socket given as argv[1], prints
BOUND, then one line per notification carehubd sends (READY=1, STATUS=..., STOPPING=1). Node has no
AF_UNIX datagram sockets; reading continuously also keeps carehubd from blocking on a full queue."""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("BOUND", flush=True)
while True:
    data = s.recv(65536)
    print(data.decode("utf-8", "replace").replace("\n", " "), flush=True)
