"""A flaky network between a browser and the server, for benchmarks/faults.py: a TCP relay
whose connections can be cut, and which can refuse new ones for a while."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class Proxy:
    """A TCP relay between a browser and the server whose connections can be cut, or refused
    for a while: what a flaky Wi-Fi does to a learner's WebSocket."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.refusing_until = 0.0
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if time.monotonic() < self.refusing_until:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self, refuse_seconds: float = 0.0) -> None:
        self.refusing_until = time.monotonic() + refuse_seconds
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()

    def close(self) -> None:
        self._listener.close()
        self.cut()
