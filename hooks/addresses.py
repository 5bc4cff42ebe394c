"""Which target URLs a hook may have, and which addresses an attempt may connect to.

A hook's URL is chosen by a tenant, and our servers make the request: without these checks
a tenant could make triggerapi POST to the cloud metadata address or to anything else on
the private network behind it (server-side request forgery). The URL is checked when the
hook is created or changed and again at every attempt, because what a name resolves to can
change; the attempt then connects to the addresses checked here and never resolves the name
again (hooks/transport.py).
"""

import dataclasses
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"https": 443, "http": 80}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never a webhook receiver. ipaddress's own flags (is_global, is_private) are checked too,
# but they vary between Python patch releases and call multicast, 6to4 and IPv4-mapped
# addresses global, so the ranges are spelled out here as well.
REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network", including the unspecified address
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, including the metadata address 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relays
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/96",  # unspecified, loopback and IPv4-compatible addresses
        "::ffff:0:0/96",  # IPv4-mapped: refused whatever they embed, no DNS answer needs them
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, including Teredo (2001::/32)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4, which embeds any IPv4 address
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")

# Never a target, not even where private targets are allowed (`make run`, tests): a tenant
# must never reach the credentials of the machine that runs us. Link-local IPv4 holds the
# metadata services of AWS, GCP, Azure and ECS (169.254.169.254, 169.254.170.2); AWS's
# IPv6 one is fd00:ec2::254. Checked on the IPv4 address a v6 one embeds, too.
METADATA_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fd00:ec2::/32"))
PRIVATE_REFUSED = "target_url resolves to an address that is not public: {address} ({setting} allows it locally)."
METADATA_REFUSED = "target_url resolves to an address that is not public: {address} (cloud metadata: never a target)."

# What a URL parser takes for an IPv4 address: one to four numbers, each decimal, octal
# (leading 0) or hex (0x). getaddrinfo and browsers read `2130706433` or `0x7f.1` as
# 127.0.0.1, so such a host is read as the address it is, never looked up as a name.
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$")
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
# Sent percent-encoded in the request line, as a browser sends them.
NON_ASCII = re.compile(r"[^\x00-\x7f]")


class TargetRefused(ValueError):
    """The target URL, or what it resolves to, may not be used. The message suits a
    400 `validation_error` on `target_url`, and an attempt's `error`."""

    field = "target_url"


@dataclass(frozen=True)
class Target:
    """A checked target: where to connect (`addresses`, in resolver order) and what to
    tell the server (`host` for SNI and the certificate, `host_header`, `request_target`)."""

    url: str
    scheme: str
    host: str
    port: int
    request_target: str
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def target_check(*, url: str) -> Target:
    """Validates `url`, resolves its host and refuses it unless every address is public
    (or HOOKS_ALLOW_PRIVATE_TARGETS is set). Raises TargetRefused."""
    target = _parse(url)
    addresses = _resolve(target.host, target.port)
    for address in addresses:
        if is_metadata(address):
            raise TargetRefused(METADATA_REFUSED.format(address=address))
        if not settings.HOOKS_ALLOW_PRIVATE_TARGETS and not address_is_public(address):
            raise TargetRefused(PRIVATE_REFUSED.format(address=address, setting="HOOKS_ALLOW_PRIVATE_TARGETS"))
    return dataclasses.replace(target, addresses=addresses)


def is_metadata(address: IPAddress) -> bool:
    """A cloud metadata address, or a v6 address embedding one (mapped, compatible, NAT64,
    6to4)."""
    if any(address in network for network in METADATA_NETWORKS):
        return True
    return (embedded := _embedded_ipv4(address)) is not None and is_metadata(embedded)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in SIX_TO_FOUR:
        return address.sixtofour
    if address in NAT64 or int(address) >> 32 == 0:  # NAT64, or IPv4-compatible (::a.b.c.d)
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """Public unicast only; an address that embeds an IPv4 address (NAT64) must embed a
    public one."""
    if address.is_multicast or not address.is_global or any(address in net for net in REFUSED_NETWORKS):
        return False
    if address in NAT64:
        return address_is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return True


def _parse(url: str) -> Target:
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"target_url must be at most {MAX_URL_LENGTH} characters.")
    if UNSAFE_CHARACTERS.search(url):
        raise TargetRefused("target_url may not contain spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets that hold no IPv6 address
        raise TargetRefused("target_url is not a valid URL.") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if settings.HOOKS_ALLOW_HTTP else ("https",)
    if scheme not in allowed or not parts.netloc:
        raise TargetRefused(f"target_url must be an absolute {' or '.join(f'{s}://' for s in allowed)} URL.")
    if "@" in parts.netloc:
        raise TargetRefused("target_url may not contain a user name or password.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise TargetRefused("target_url has an invalid port.") from None
    host = _host(parts.hostname or "")
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_target = NON_ASCII.sub(lambda match: quote(match.group()), request_target)
    return Target(url=url, scheme=scheme, host=host, port=port, request_target=request_target, addresses=())


def _host(host: str) -> str:
    """The host as it goes on the wire: an address in its usual form, or an ASCII name."""
    host = host.rstrip(".")
    if not host:
        raise TargetRefused("target_url must name a host.")
    if NUMERIC_HOST.match(host):
        try:
            return str(ipaddress.IPv4Address(socket.inet_aton(host)))
        except OSError:
            raise TargetRefused("target_url's host is not a valid IPv4 address.") from None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetRefused("target_url's host is not a valid host name.") from None


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """An address stands for itself; a name gets every address the resolver has for it."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"target_url's host does not resolve: {host}.") from None
    addresses = []
    for family, _, _, _, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if family in (socket.AF_INET, socket.AF_INET6) and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"target_url's host does not resolve: {host}.")
    return tuple(addresses)
