"""DNS pinning: deliveries connect to the address the SSRF guard vetted, never a fresh lookup."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from kb_service.webhooks.urls import check_url
from kb_service.workers.webhooks.delivery import pin, post
from tests.kb_service.live_servers import webhook_receiver

UNRESOLVABLE = "kb-hooks.invalid"  # RFC 6761: never resolves, so any delivery must be pinned


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, follow_redirects=False, trust_env=False) as client:
        yield client


def test_check_url_returns_the_addresses_it_vetted() -> None:
    assert check_url("https://93.184.216.34:8443/kb", allow_private=False) == ("93.184.216.34",)
    assert check_url("http://[2606:2800:220:1::1]/kb", allow_private=False) == (
        "2606:2800:220:1::1",
    )
    assert check_url("http://127.0.0.1/kb", allow_private=True) == ()  # nothing to pin


def test_pinning_connects_to_the_ip_but_keeps_the_host_for_host_header_and_tls() -> None:
    pinned = pin("https://hooks.example.com:8443/kb?x=1", "93.184.216.34")
    assert pinned.url.host == "93.184.216.34" and pinned.url.port == 8443
    assert pinned.url.raw_path == b"/kb?x=1"
    assert pinned.host == "hooks.example.com:8443"
    assert pinned.sni_hostname == "hooks.example.com"

    v6 = pin("https://hooks.example.com/kb", "2606:2800:220:1:248:1893:25c8:1946")
    assert str(v6.url) == "https://[2606:2800:220:1:248:1893:25c8:1946]/kb"
    assert v6.host == "hooks.example.com" and v6.sni_hostname == "hooks.example.com"

    literal = pin("http://[2606:2800:220:1::1]:8080/kb", "2606:2800:220:1::1")
    assert str(literal.url) == "http://[2606:2800:220:1::1]:8080/kb"
    assert literal.host == "[2606:2800:220:1::1]:8080" and literal.sni_hostname is None


def test_a_pinned_post_reaches_the_vetted_address_without_resolving_the_host(
    client: httpx.Client,
) -> None:
    with webhook_receiver() as receiver:
        port = urlsplit(receiver.url).port
        url = f"http://{UNRESOLVABLE}:{port}/hook?x=1"
        with pytest.raises(httpx.ConnectError):  # a fresh lookup cannot find the receiver
            post(client, url, content=b"{}", headers={}, addresses=())
        assert post(client, url, content=b"{}", headers={}, addresses=["127.0.0.1"]) == 200
        # the first vetted address refuses the connection; the next one is tried
        assert (
            post(client, url, content=b"{}", headers={}, addresses=["127.0.0.2", "127.0.0.1"])
            == 200
        )
    first, second = receiver.received
    assert first.headers["host"] == f"{UNRESOLVABLE}:{port}" and first.path == "/hook?x=1"
    assert second.headers["host"] == f"{UNRESOLVABLE}:{port}"


def _self_signed(directory: Path, hostname: str) -> tuple[Path, Path, str]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory / "cert.pem", directory / "key.pem", pem.decode()


@contextmanager
def tls_receiver(cert: Path, key: Path) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An https receiver on 127.0.0.1; yields its port and the headers of each POST."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, seen
    finally:
        server.shutdown()
        server.server_close()


def test_pinned_https_verifies_the_certificate_against_the_original_host(tmp_path: Path) -> None:
    cert, key, pem = _self_signed(tmp_path, UNRESOLVABLE)
    trusting = ssl.create_default_context(cadata=pem)
    with (
        tls_receiver(cert, key) as (port, seen),
        httpx.Client(verify=trusting, timeout=5, trust_env=False) as client,
    ):
        url = f"https://{UNRESOLVABLE}:{port}/hook"
        assert post(client, url, content=b"{}", headers={}, addresses=["127.0.0.1"]) == 204
        # the certificate names kb-hooks.invalid, not the IP or another host on it
        with pytest.raises(httpx.ConnectError, match=r"certificate .*other\.invalid"):
            post(
                client,
                f"https://other.invalid:{port}/hook",
                content=b"{}",
                headers={},
                addresses=["127.0.0.1"],
            )
    [headers] = seen
    assert headers["host"] == f"{UNRESOLVABLE}:{port}"
    assert headers["connection"] == "close"  # no TLS connection reused across hosts on one IP
