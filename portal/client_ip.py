"""The client's address, the one way the portal reads it (audit trail, agreement acceptance, rate limits, allauth).

Behind a reverse proxy REMOTE_ADDR is the proxy. X-Forwarded-For is believed only when the direct peer is in
TRUSTED_PROXIES, and then only as far as it goes through trusted hops: the address taken is the rightmost one that is
not itself a trusted proxy (anything left of it was written by the client and may be forged).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _parse(value: str) -> Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def is_trusted_proxy(address: Address | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip_from(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client's address given the direct peer and the X-Forwarded-For header (pure, for tests and tools)."""
    peer = _parse(remote_addr or "")
    if peer is None:
        return None
    current = peer
    if forwarded_for:
        for hop in reversed(forwarded_for.split(",")):
            if not is_trusted_proxy(current):
                break
            address = _parse(hop)
            if address is None:  # garbage from a hop we cannot read: stop at the last trusted proxy
                break
            current = address
    return str(current)


def client_ip(request) -> str | None:
    """The client's IP address for `request`, or None outside a request."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    return client_ip_from(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))
