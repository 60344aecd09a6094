"""Where webhooks may be sent: public addresses, and the private networks the operator lists.

A webhook's URL is typed by an estate's admin, and the delivery log shows the start of the answer:
without this, an admin could make the server call its own database port, the machine's other
services or the office network, and read the answers (server-side request forgery). The check is
made on the addresses the name resolves to at the moment of sending, and the connection goes to
the address checked (the Host header and TLS name stay the URL's), so a name that resolves to a
public address when checked and to 127.0.0.1 when connecting (DNS rebinding) gets nowhere.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpx

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(httpx.ConnectError):
    """The destination is not one webhooks may reach."""


def parse_networks(text: str) -> list[IPNetwork]:
    """`PROPDESK_WEBHOOK_ALLOWED_NETWORKS`: comma-separated CIDRs, e.g. "192.168.10.0/24,10.1.2.3/32"."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def allowed(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in networks):
        return True
    return address.is_global and not address.is_multicast


def literal_refusal(host: str, networks: Iterable[IPNetwork]) -> str | None:
    """Why a URL's host is refused before any lookup (an address or localhost), or None."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        name = "127.0.0.1"  # what it always resolves to (RFC 6761)
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    return None if allowed(address, networks) else "is not a public address"


async def resolve(host: str, port: int) -> list[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


class GuardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, networks: Iterable[IPNetwork], inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.networks = list(networks)
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise EgressRefused(f"cannot resolve {host}: {exc}", request=request) from None
        refused = [a for a in addresses if not allowed(a, self.networks)]
        if refused or not addresses:
            raise EgressRefused(f"refused: {host} resolves to {refused[0] if refused else 'nothing'}, "
                                "which webhooks may not reach (see PROPDESK_WEBHOOK_ALLOWED_NETWORKS)", request=request)
        pinned = str(addresses[0])
        request.url = request.url.copy_with(host=pinned)
        request.headers["Host"] = host if request.url.port is None else f"{host}:{request.url.port}"
        request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_client(networks: Iterable[IPNetwork]) -> httpx.AsyncClient:
    """The client webhooks are sent with; redirects are not followed (each hop would need the check)."""
    return httpx.AsyncClient(transport=GuardedTransport(networks), follow_redirects=False)
