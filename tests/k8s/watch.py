# SPDX-License-Identifier: Apache-2.0
"""A Kubernetes watch as a client reads it: HTTP 200, then one JSON event a
line ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}) until
the server or the client ends it."""
import json
import queue
import socket
import threading
import time


class WatchEnded(RuntimeError):
    pass


class Watch:
    """One watch request: its HTTP status, then its events, read by a thread
    so a test can wait for the next one with a deadline."""

    _END = object()

    def __init__(self, conn, response):
        self.conn = conn
        self.response = response
        self.status = response.status
        self.body = None  # a refused watch's answer (a Status)
        self.error = None  # why reading stopped, if not at the end
        self.events = queue.Queue()
        self.ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        if self.status != 200:
            self.body = json.loads(response.read() or "null")
            self.events.put(self._END)
        else:
            self._reader.start()

    def _read(self):
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                if line.strip():
                    self.events.put(json.loads(line))
        except Exception as e:  # a reset connection included: the watch ends
            self.error = e
        finally:
            self.events.put(self._END)

    def next(self, timeout=10):
        """The next event, or None when the server ended the watch.
        TimeoutError when none comes in time."""
        if self.ended:
            return None
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no watch event in {timeout} s") from None
        if event is self._END:
            self.ended = True
            return None
        return event

    def until(self, match, timeout=20):
        """Events up to and including the first one match() accepts."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching watch event in {timeout} s; saw {seen}")
            event = self.next(left)
            if event is None:
                raise WatchEnded(f"watch ended before a matching event; saw {seen}")
            seen.append(event)
            if match(event):
                return seen

    def close(self):
        # Unblock the reader first; closing under it races inside http.client.
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._reader.is_alive():
            self._reader.join(5)
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
