"""SSRF guard: webhook URLs must resolve to public addresses only.

Checked when an endpoint is created and again before every attempt, since DNS may
change in between. The check alone is not enough: if the sender resolved the name
once more to connect, a DNS-rebinding host could answer the check with a public
address and the connection with 127.0.0.1. So `check_url` returns the addresses it
vetted and delivery connects to one of those, never to a fresh lookup.
`KB_WEBHOOK_ALLOW_PRIVATE=true` lifts the rule (tests, private networks); nothing is
vetted or pinned then. Redirects are never followed, so a public URL cannot bounce
inwards.

`_blocked` decides one address. An IPv6 address that carries an IPv4 address is judged
by the IPv4 address it carries, whatever Python's `is_global` says of the IPv6 prefix:

| form | prefix | refused when |
|---|---|---|
| IPv4 | | not `is_global`, or multicast |
| IPv4-mapped | `::ffff:0:0/96` | the IPv4 rule refuses the embedded address |
| IPv4-translated (RFC 2765) | `::ffff:0:0:0/96` | the IPv4 rule refuses the embedded address |
| IPv4-compatible (deprecated; holds `::` and `::1`) | `::/96` | the IPv4 rule refuses the embedded address |
| NAT64, well-known prefix | `64:ff9b::/96` | the IPv4 rule refuses the embedded address |
| NAT64, local-use prefix | `64:ff9b:1::/48` | always: where the IPv4 address sits is the operator's choice |
| 6to4 | `2002::/16` | the IPv4 rule refuses the embedded address |
| Teredo | `2001::/32` | always: the packets reach a host behind a NAT through a relay, which no check here can vet |
| any other IPv6 | | not `is_global`, site-local, or multicast |
| anything unparsable | | always |
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from kb_service.errors import InvalidInput


class UnsafeWebhookUrl(InvalidInput):
    """The URL is malformed or points at a private, loopback or link-local address."""


_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _blocked(address: str) -> bool:
    """True unless `address` is public, by the table in the module docstring."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        return _blocked_ipv4(ip)
    if ip in _NAT64_LOCAL or ip.teredo is not None:
        return True
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return any(_blocked_ipv4(v4) for v4 in embedded)
    return not ip.is_global or ip.is_site_local or ip.is_multicast


def _blocked_ipv4(ip: ipaddress.IPv4Address) -> bool:
    return not ip.is_global or ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses a transition form carries; None for a native IPv6 address."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if any(ip in network for network in (_COMPATIBLE, _TRANSLATED, _NAT64)):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return None


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
