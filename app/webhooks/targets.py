"""Where webhooks may go (WEBHOOK_ALLOWED_HOSTS), so the feature cannot be turned on the
service's own network. Pure, no I/O: the caller resolves names and asks about each address.

An entry is `*` (any host), `*.example.com` (its subdomains), `example.com` or an IP address
(that host), optionally with a port (`example.com:8443`: that port only), and optionally as
`http://...` (plain http allowed for that host; https is always). A URL must match an entry.
Every address a host resolves to must be public (globally routable) unless the host is named
by an entry of its own, not a wildcard: `http://localhost:8080` or `10.0.0.7` let an operator
call a receiver inside on purpose; `*` never reaches loopback, private or link-local addresses.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Final

from yarl import URL

MAX_URL_CHARS: Final = 2048


class TargetRefused(ValueError):
    """A callback URL (or an address it resolves to) webhooks may not reach; says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    host: str  # lower-case; '*' any; '*.example.com' its subdomains
    port: int | None = None  # None: any port
    http: bool = False  # plain http allowed too

    @property
    def wildcard(self) -> bool:
        return self.host.startswith("*")

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and len(host) > len(self.host) - 1
        return host == self.host


def parse_entry(raw: str) -> Entry:
    """One WEBHOOK_ALLOWED_HOSTS entry; ValueError says what is wrong with it."""
    text = raw.strip().lower()
    http = text.startswith("http://")
    if text.startswith(("http://", "https://")):
        text = text.split("://", 1)[1].rstrip("/")
    if text in ("*", "") or text.startswith("*"):
        host, _, port_text = (text or "*").partition(":")
        if not port_text.isdigit() and port_text:
            raise ValueError(f"{raw!r}: the port must be a number")
        port = int(port_text) if port_text else None
        if host != "*" and (not host.startswith("*.") or "*" in host[1:] or len(host) < 3):
            raise ValueError(f"{raw!r}: a wildcard may only open an entry, as in *.example.com")
    else:
        url = URL(f"//{text}")
        if url.host is None or url.path not in ("", "/") or url.user is not None or "*" in url.host:
            raise ValueError(f"{raw!r} is not a host, host:port or http://host[:port]")
        host, port = url.host.rstrip("."), url.explicit_port
    return Entry(host, port, http)


@dataclass(frozen=True, slots=True)
class AllowList:
    entries: tuple[Entry, ...] = ()

    @property
    def on(self) -> bool:
        return bool(self.entries)

    def check_url(self, raw: str) -> URL:
        """The callback URL, if its scheme and host are allowed (its addresses are checked once
        resolved: `check_address`). Raises TargetRefused saying why not."""
        if not self.on:
            raise TargetRefused("webhooks are off here: WEBHOOK_ALLOWED_HOSTS names no host")
        if len(raw) > MAX_URL_CHARS:
            raise TargetRefused(f"it is {len(raw)} characters long; at most {MAX_URL_CHARS}")
        try:
            url = URL(raw)
        except ValueError as exc:
            raise TargetRefused(f"it is not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise TargetRefused("it must be an absolute https:// URL")
        if url.user is not None or url.password is not None:
            raise TargetRefused("it must not carry credentials: the signature authenticates the sender")
        host, port = url.host.lower().rstrip("."), url.port or (443 if url.scheme == "https" else 80)
        matching = self._matching(host, port)
        if not matching:
            raise TargetRefused(f"host {host!r} (port {port}) is not in WEBHOOK_ALLOWED_HOSTS")
        if url.scheme == "http" and not any(entry.http for entry in matching):
            raise TargetRefused(f"plain http to {host!r} is not allowed: use https, or list it as http://{host}")
        if _ip(host) is not None:
            self.check_address(host, port, host)
        return url

    def _matching(self, host: str, port: int) -> list[Entry]:
        return [entry for entry in self.entries if entry.matches(host, port)]

    def check_address(self, host: str, port: int, address: str) -> None:
        """Raise TargetRefused unless `host` may be reached at `address` (one it resolved to). The
        reason names the kind of address, never the address (a tenant must not map the inside)."""
        ip = _ip(address)
        matching = self._matching(host.lower().rstrip("."), port)
        if ip is None or not matching:
            raise TargetRefused(f"{host!r} resolved to something that is not an address webhooks may reach")
        kind = _inside(ip)
        if kind and not any(not entry.wildcard for entry in matching):
            raise TargetRefused(
                f"{host!r} resolves to a {kind} address: only a host listed by name in "
                "WEBHOOK_ALLOWED_HOSTS (not by a wildcard) may be reached there"
            )


@functools.cache
def allow_list(raw_entries: tuple[str, ...]) -> AllowList:
    """The allow list of WEBHOOK_ALLOWED_HOSTS's entries (settings validated them at start)."""
    return AllowList(tuple(parse_entry(raw) for raw in raw_entries))


IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# 64:ff9b::/96 (NAT64, RFC 6052) carries an IPv4 address in its last 32 bits; so does ::/96 (IPv4-compatible).
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE: Final = ipaddress.ip_network("::/96")


def _ip(text: str) -> IP | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _inside(ip: IP) -> str:
    """What kind of not-public address `ip` is ('' for a public one), looking through the IPv6 forms
    that carry an IPv4 address (mapped, NAT64, IPv4-compatible, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and (ip in _NAT64 or ip in _COMPATIBLE) and int(ip) & 0xFFFFFFFF:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return _inside(embedded)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified or ip.is_reserved or ip.is_private or not ip.is_global:
        return "private or reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "private or reserved"
    return ""
