# SPDX-License-Identifier: Apache-2.0
"""The two ends of the lb tests' TCP traffic, run inside test namespaces.

  lb_peers.py serve NAME ADDRESS PORT
      Answer every line received on each connection with NAME, until the
      peer closes. One thread per connection, so connections can stay open.

  lb_peers.py connect ADDRESS PORT COUNT
      Open COUNT connections, one after the other, each asking once and
      closing; print a JSON object {answer: connections, "failed": n}.

  lb_peers.py hold ADDRESS PORT COUNT
      Open COUNT connections and keep them; for each line read on stdin,
      ask on every connection again and print a JSON list of the answers
      (null where a connection broke)."""
import json
import socket
import socketserver
import sys


def serve(name, address, port):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for _ in self.rfile:
                self.wfile.write(name.encode() + b"\n")

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    with Server((address, port), Handler) as srv:
        print("ready", flush=True)
        srv.serve_forever()


def ask(sock_file, sock):
    sock.sendall(b"who\n")
    line = sock_file.readline()
    if not line:
        raise ConnectionError("closed")
    return line.decode().strip()


def connect(address, port, count):
    answers = {"failed": 0}
    for _ in range(count):
        try:
            # Long enough for neighbour discovery and one lost SYN.
            with socket.create_connection((address, port), timeout=5) as s:
                who = ask(s.makefile("rb"), s)
            answers[who] = answers.get(who, 0) + 1
        except OSError:
            answers["failed"] += 1
    print(json.dumps(answers))


def hold(address, port, count):
    conns = []
    for _ in range(count):
        s = socket.create_connection((address, port), timeout=2)
        conns.append((s, s.makefile("rb")))
    while True:
        answers = []
        for s, f in conns:
            try:
                answers.append(ask(f, s))
            except OSError:
                answers.append(None)
        print(json.dumps(answers), flush=True)
        if not sys.stdin.readline():
            return


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "serve":
        serve(args[0], args[1], int(args[2]))
    elif verb == "connect":
        connect(args[0], int(args[1]), int(args[2]))
    elif verb == "hold":
        hold(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit("usage: lb_peers.py serve|connect|hold ...")
