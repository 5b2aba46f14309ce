"""Loopback helpers of the client tests: the served app, and a proxy that drops a connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from kb_service.api.app import create_app
from kb_service.runtime import Runtime
from kb_service.settings import Settings
from retrieval.embedding import Embedder
from tests.conftest import new_key
from tests.kb_service.live_servers import serve_app


@dataclass
class Served:
    """The app under uvicorn with ingest workers and the webhook dispatcher running."""

    url: str
    runtime: Runtime
    acme: dict[str, str]  # an admin key of organization acme
    globex: dict[str, str]  # an admin key of organization globex


@contextmanager
def served_app(settings: Settings, embedder: Embedder) -> Iterator[Served]:
    runtime = Runtime.build(settings, embedder=embedder)
    runtime.start_workers(1)
    runtime.start_webhook_dispatcher()
    try:
        with serve_app(create_app(runtime=runtime)) as url:
            yield Served(url, runtime, new_key(runtime, "acme"), new_key(runtime, "globex"))
    finally:
        runtime.close()


@dataclass
class DroppingProxy:
    """A TCP proxy to `upstream` that hangs up on the first `drop` connections.

    A dropped connection's request reaches the server and is answered, but the proxy
    closes the client's socket once the answer starts, instead of passing it on: the
    client sees a connection lost after sending, the case only an Idempotency-Key
    makes safe to retry.
    """

    upstream: tuple[str, int]
    drop: int = 1
    requests: list[bytes] = field(default_factory=list)  # what each connection carried
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, client: socket.socket, number: int) -> None:
        upstream = socket.create_connection(self.upstream)
        received = bytearray()
        with self._lock:
            self.requests.append(b"")
        forward = threading.Thread(target=self._pump_in, args=(client, upstream, received, number))
        forward.start()
        try:
            while chunk := upstream.recv(65536):
                if number < self.drop:
                    break  # the server answered: hang up without passing it on
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            forward.join(5)

    def _pump_in(
        self, client: socket.socket, upstream: socket.socket, received: bytearray, number: int
    ) -> None:
        try:
            while chunk := client.recv(65536):
                received.extend(chunk)
                with self._lock:
                    self.requests[number] = bytes(received)
                upstream.sendall(chunk)
        except OSError:
            pass


@contextmanager
def dropping_proxy(base_url: str, drop: int = 1) -> Iterator[DroppingProxy]:
    host, port = base_url.removeprefix("http://").split(":")
    proxy = DroppingProxy((host, int(port)), drop=drop)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    proxy.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop = threading.Event()

    def accept() -> None:
        number = 0
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            threading.Thread(target=proxy.handle, args=(client, number), daemon=True).start()
            number += 1

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def sample(*names: str) -> list[Path]:
    from tests.conftest import SAMPLE_DOCS

    return [SAMPLE_DOCS / n for n in names]
