"""SSRF guard: webhook URLs must resolve to public addresses only.

Checked when an endpoint is created and again before every attempt, since DNS may
change in between. `KB_WEBHOOK_ALLOW_PRIVATE=true` lifts the rule (tests, private
networks). Redirects are never followed, so a public URL cannot bounce inwards.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from kb_service.errors import InvalidInput


class UnsafeWebhookUrl(InvalidInput):
    """The URL is malformed or points at a private, loopback or link-local address."""


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise `UnsafeWebhookUrl` unless `url` is http(s) and every address it resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl(
            "The webhook URL must be an absolute http:// or https:// URL.",
            errors=[{"field": "url", "message": "not an http(s) URL", "type": "value_error"}],
        )
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise UnsafeWebhookUrl(
            f"The webhook host {parts.hostname!r} does not resolve.",
            errors=[{"field": "url", "message": "host does not resolve", "type": "value_error"}],
        ) from None
    if not infos or any(_blocked(str(info[4][0])) for info in infos):
        raise UnsafeWebhookUrl(
            "Webhook URLs may not point at private, loopback or link-local addresses "
            "(set KB_WEBHOOK_ALLOW_PRIVATE=true to allow them).",
            errors=[{"field": "url", "message": "non-public address", "type": "value_error"}],
        )
