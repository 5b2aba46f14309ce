"""SSRF guard: webhook URLs must resolve to public addresses only.

Checked when an endpoint is created and again before every attempt, since DNS may
change in between. The check alone is not enough: if the sender resolved the name
once more to connect, a DNS-rebinding host could answer the check with a public
address and the connection with 127.0.0.1. So `check_url` returns the addresses it
vetted and delivery connects to one of those, never to a fresh lookup.
`KB_WEBHOOK_ALLOW_PRIVATE=true` lifts the rule (tests, private networks); nothing is
vetted or pinned then. Redirects are never followed, so a public URL cannot bounce
inwards.
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


def check_url(url: str, *, allow_private: bool) -> tuple[str, ...]:
    """Raise `UnsafeWebhookUrl` unless `url` is http(s) and every address it resolves to is public.

    Returns the vetted IP addresses in resolver order, for the sender to connect to;
    empty when `allow_private` is set, since then nothing needs pinning.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl(
            "The webhook URL must be an absolute http:// or https:// URL.",
            errors=[{"field": "url", "message": "not an http(s) URL", "type": "value_error"}],
        )
    if allow_private:
        return ()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise UnsafeWebhookUrl(
            f"The webhook host {parts.hostname!r} does not resolve.",
            errors=[{"field": "url", "message": "host does not resolve", "type": "value_error"}],
        ) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses or any(_blocked(address) for address in addresses):
        raise UnsafeWebhookUrl(
            "Webhook URLs may not point at private, loopback or link-local addresses "
            "(set KB_WEBHOOK_ALLOW_PRIVATE=true to allow them).",
            errors=[{"field": "url", "message": "non-public address", "type": "value_error"}],
        )
    return addresses
