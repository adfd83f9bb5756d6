"""A guard for tests: DNS lookups and connections to anything but loopback are blocked and recorded.

``blocked_network`` (a fixture, imported by the tests that use it) replaces ``socket.getaddrinfo`` and
``socket.socket.connect`` for the test's duration. A lookup of a name other than ``localhost`` or a connection
to an address outside 127.0.0.0/8 and ::1 raises ``OSError`` (as an unreachable network does) and is
appended to the returned list, so a test can assert that a command refused BEFORE reaching out at all.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_address(host: object) -> bool:
    """Whether ``host`` is an IP address literal (resolving it asks no DNS server)."""
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else str(host)).split("%")[0])
        return True
    except ValueError:
        return False


def _is_loopback(host: object) -> bool:
    if host is None:
        return True  # a bind-style lookup of the local machine
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def blocked_network(monkeypatch) -> list[str]:
    """Block and record every non-loopback DNS lookup and connection; returns the record."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host) and not _is_address(host):
            attempts.append(f"lookup {host}")
            raise socket.gaierror(socket.EAI_NONAME, f"blocked by the test: lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def check(address) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            attempts.append(f"connect {address[0]}:{address[1]}")
            raise OSError(f"blocked by the test: connection to {address[0]}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts
