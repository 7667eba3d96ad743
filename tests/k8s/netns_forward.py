# SPDX-License-Identifier: Apache-2.0
"""A TCP port inside a network namespace relayed to the same port on the
host's loopback: the node agent runs in a node namespace (its netdevs,
its health check ports) and still reaches the test API server, which
listens on the host's 127.0.0.1 only (its certificate names that)."""
import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in_netns(netns, port):
    """A listening socket on 127.0.0.1:port inside /run/netns/NETNS, made
    by a thread that enters the namespace (setns is per thread)."""
    out = {}

    def make():
        fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                out["error"] = OSError(ctypes.get_errno(), "setns")
                return
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(64)
            out["sock"] = s
        except OSError as e:
            out["error"] = e
        finally:
            os.close(fd)
    t = threading.Thread(target=make)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


def connect_in_netns(netns, host, port, timeout=5, source=None):
    """A TCP connection to host:port made from inside /run/netns/NETNS
    (from address source, if given)."""
    out = {}

    def make():
        fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                out["error"] = OSError(ctypes.get_errno(), "setns")
                return
            out["sock"] = socket.create_connection(
                (host, port), timeout=timeout, source_address=source and (source, 0))
        except OSError as e:
            out["error"] = e
        finally:
            os.close(fd)
    t = threading.Thread(target=make)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


class Relay:
    """Connections accepted on a listening sock relayed to
    127.0.0.1:target (in the test's own namespace), byte for byte."""

    def __init__(self, sock, target):
        self.port = target
        self.sock = sock
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                c.close()
                continue
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            a.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class NetnsForwarder(Relay):
    """netns's 127.0.0.1:port relayed to ours."""

    def __init__(self, netns, port):
        super().__init__(socket_in_netns(netns, port), port)
