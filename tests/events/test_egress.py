"""Webhooks reach public addresses and the networks the operator lists, nothing else (no SSRF)."""
from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.domain.events import egress

LOOPBACK = egress.parse_networks("127.0.0.0/8")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "169.254.169.254",
                                     "0.0.0.0", "::1", "fe80::1", "fc00::5", "::ffff:127.0.0.1", "224.0.0.1",
                                     "100.64.0.1"])
def test_private_loopback_link_local_and_mapped_addresses_are_refused(address: str) -> None:
    assert egress.allowed(ipaddress.ip_address(address), []) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "223.5.5.5", "2400:3200::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert egress.allowed(ipaddress.ip_address(address), []) is True


def test_listed_networks_are_allowed() -> None:
    networks = egress.parse_networks(" 192.168.10.0/24 , 127.0.0.1/32")
    assert egress.allowed(ipaddress.ip_address("192.168.10.7"), networks)
    assert egress.allowed(ipaddress.ip_address("::ffff:127.0.0.1"), networks)
    assert not egress.allowed(ipaddress.ip_address("192.168.11.7"), networks)


@pytest.mark.parametrize(("host", "refused"), [("localhost", True), ("api.localhost", True), ("127.0.0.1", True),
                                               ("[::1]", True), ("hooks.example.com", False), ("8.8.8.8", False)])
def test_literal_hosts_refused_at_once(host: str, refused: bool) -> None:
    assert (egress.literal_refusal(host, []) is not None) is refused


class _Echo:
    """A real local HTTP server that records each request's Host header."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                echo.hosts.append(self.headers.get("Host", ""))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"secret internal answer")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echo():
    server = _Echo()
    yield server
    server.close()


async def test_a_hook_on_this_machine_is_refused_and_nothing_is_sent(echo) -> None:
    async with egress.guarded_client([]) as client:
        for url in (f"http://127.0.0.1:{echo.port}/hook", f"http://localhost:{echo.port}/hook"):
            with pytest.raises(egress.EgressRefused, match="may not reach"):
                await client.post(url, content=b"{}")
    assert echo.hosts == []


async def test_a_listed_network_is_reached_at_the_checked_address_with_the_urls_host(echo) -> None:
    async with egress.guarded_client(LOOPBACK) as client:
        r = await client.post(f"http://localhost:{echo.port}/hook", content=b"{}")
    assert r.status_code == 200
    assert echo.hosts == [f"localhost:{echo.port}"]
