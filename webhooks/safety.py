"""Outbound safety for webhook calls: which URLs may be called, and a POST that cannot be turned against us.

A target must be https (http only with WEBHOOKS_ALLOW_HTTP), and every address its host resolves to must be
public: loopback, private, link-local, shared, multicast and reserved addresses are refused unless their network
is listed in WEBHOOKS_ALLOW_PRIVATE_TARGETS; cloud metadata addresses are refused always. The request then
connects to the very address that was checked (the Host header and TLS SNI/certificate check still use the
name), so a DNS answer that changes between the check and the connection (DNS rebinding) gains nothing.
Redirects are not followed, each attempt has one total deadline (WEBHOOKS_TIMEOUT_SECONDS for connect, TLS, send
and answer together, enforced by a watchdog, so a receiver trickling bytes is cut off) and at most
WEBHOOKS_RESPONSE_MAX_BYTES of the answer is read.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import certifi
from django.conf import settings

from webhooks.errors import UnsafeTargetError

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud metadata
    )
)
USER_AGENT = "Greenlight-Webhooks/1"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written in the URL (used for Host, SNI and the certificate check)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # every resolved address, all checked

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


@dataclass(frozen=True)
class Response:
    status_code: int | None
    body: bytes
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@lru_cache(maxsize=8)
def _allowed_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in spec if n.strip())


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64: a gateway forwards to it)
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"),)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address reaches through a tunnel or translator: 6to4 (2002::/16), Teredo
    (2001::/32: its server and its client) and NAT64 (64:ff9b::/96), each with the mechanism's name."""
    found = []
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        found.extend(("Teredo", v4) for v4 in ip.teredo)
    if any(ip in net for net in NAT64_NETWORKS):
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def address_refusal(address: str) -> str | None:
    """Why calling this address is refused, or None when it may be called. An IPv6 address that embeds an IPv4
    one (mapped, 6to4, Teredo, NAT64) is judged by that IPv4 address too: 2002:a00:1:: reaches 10.0.0.1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        for mechanism, v4 in embedded_ipv4(ip):
            reason = _plain_refusal(v4)
            if reason:
                return f"{reason} ({v4}, through {mechanism})"
    return _plain_refusal(ip)


def _plain_refusal(ip) -> str | None:
    if ip in METADATA_ADDRESSES:
        return "the cloud metadata address"
    allowed = _allowed_networks(tuple(settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS))
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def check_url_form(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a well-formed, acceptable URL; no DNS lookup."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTargetError("This is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTargetError("Enter a full URL, starting with https://.")
    if scheme not in allowed:
        raise UnsafeTargetError("Webhook URLs must use https://.")
    if parts.username or parts.password:
        raise UnsafeTargetError("Put no user name or password in the URL; verify our signature instead.")
    if parts.fragment:
        raise UnsafeTargetError("A webhook URL cannot have a #fragment.")
    host = parts.hostname.rstrip(".")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        ipaddress.ip_address(host)
        return (host,)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTargetError(f"The host “{host}” could not be found.") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeTargetError(f"The host “{host}” could not be found.")
    return addresses


def check_target(url: str) -> Target:
    """The URL's target with its resolved addresses, or UnsafeTargetError saying why it may not be called."""
    scheme, host, port, path = check_url_form(url)
    addresses = resolve(host, port)
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            shown = "" if address == host else f" ({address})"
            raise UnsafeTargetError(f"“{host}”{shown} is {reason}; webhooks are only sent to public addresses.")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


class _Deadline:
    """One attempt's total time (connect, TLS, send and answer together). A watchdog shuts the socket down when it
    passes, so a receiver that trickles bytes (each arriving within any per-read timeout) cannot hold the worker."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = threading.Event()
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired.is_set():
            raise _TimedOut
        return left

    def watch(self, sock: socket.socket) -> None:
        """Shut this connection down at the deadline (a duplicate descriptor: safe from another thread, and it
        works the same under TLS)."""
        self._socket = socket.socket(fileno=os.dup(sock.fileno()))
        if self.expired.is_set():
            self._expire()

    def _expire(self) -> None:
        self.expired.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        if self._socket is not None:
            self._socket.close()


class _TimedOut(Exception):
    pass


class _CouldNotConnect(Exception):
    pass


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to the checked address; the Host header, SNI and the certificate check use the URL's name."""

    def __init__(self, target: Target, address: str, deadline: _Deadline):
        super().__init__(address, target.port, timeout=deadline.seconds)
        self.target, self.address, self.deadline = target, address, deadline

    def connect(self) -> None:
        connect_timeout = min(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, self.deadline.remaining())
        try:
            sock = socket.create_connection((self.address, self.target.port), timeout=connect_timeout)
        except TimeoutError as exc:
            raise _TimedOut from exc
        except OSError as exc:
            raise _CouldNotConnect from exc
        self.deadline.watch(sock)
        sock.settimeout(self.deadline.remaining())
        if self.target.scheme == "https":
            context = ssl.create_default_context(cafile=certifi.where())
            sock = context.wrap_socket(sock, server_hostname=self.target.host)
        self.sock = sock


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST the body to a checked target's checked address. Never raises for network trouble: see `error`.

    WEBHOOKS_TIMEOUT_SECONDS bounds the whole attempt (connect, TLS, send and read, together), not each read.
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_target(url)
    except UnsafeTargetError as exc:
        return Response(status_code=None, body=b"", duration_ms=elapsed(), error=str(exc))
    headers = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    deadline = _Deadline(settings.WEBHOOKS_TIMEOUT_SECONDS)
    error = "Could not connect."
    try:
        for address in target.addresses:
            connection = _PinnedConnection(target, address, deadline)
            try:
                status, data = _exchange(connection, target, body, headers, deadline)
            except _CouldNotConnect:
                error = f"Could not connect to {target.host_header}."
                continue  # try the host's next address
            except (_TimedOut, TimeoutError):
                return Response(status_code=None, body=b"", duration_ms=elapsed(), error=_timed_out())
            except (OSError, http.client.HTTPException) as exc:
                if deadline.expired.is_set():
                    return Response(status_code=None, body=b"", duration_ms=elapsed(), error=_timed_out())
                return Response(status_code=None, body=b"", duration_ms=elapsed(), error=_describe(exc))
            finally:
                connection.close()
            return Response(status_code=status, body=data, duration_ms=elapsed())
    finally:
        deadline.close()
    return Response(status_code=None, body=b"", duration_ms=elapsed(), error=error)


def _exchange(connection, target: Target, body: bytes, headers: dict, deadline: _Deadline) -> tuple[int, bytes]:
    """Send the request and read the status and at most WEBHOOKS_RESPONSE_MAX_BYTES of the answer, by the deadline."""
    connection.request("POST", target.path, body=body, headers=headers)
    response = connection.getresponse()
    limit = settings.WEBHOOKS_RESPONSE_MAX_BYTES
    data = b""
    while len(data) < limit:
        chunk = response.read(min(1024, limit - len(data)))
        if not chunk:
            break
        data += chunk
    if deadline.expired.is_set():
        raise _TimedOut  # the answer was cut off at the deadline: a timeout, whatever its status said
    return response.status, data


def _timed_out() -> str:
    return f"Timed out: no complete answer within {settings.WEBHOOKS_TIMEOUT_SECONDS} s."


def _describe(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "The TLS handshake failed (certificate not valid for the host?)."
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionError | http.client.IncompleteRead):
        return "The connection broke before an answer came."
    if isinstance(exc, http.client.HTTPException):
        return "The endpoint's answer was not valid HTTP."
    return f"The request failed: {type(exc).__name__}."
