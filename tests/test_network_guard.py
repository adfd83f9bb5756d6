"""The network guard itself: it must block and record remote lookups and connections, and let loopback through."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from network_guard import blocked_network  # noqa: F401  (a fixture)


def test_remote_lookups_and_connections_are_blocked_and_recorded(blocked_network):  # noqa: F811
    with pytest.raises(OSError):
        urllib.request.urlopen("https://api.openai.com/v1/models", timeout=2)
    assert blocked_network == ["lookup api.openai.com"]
    with pytest.raises(OSError):
        socket.create_connection(("8.8.8.8", 53), timeout=1)
    assert blocked_network[-1] == "connect 8.8.8.8:53"


def test_loopback_goes_through(blocked_network):  # noqa: F811
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(("localhost", server.getsockname()[1]), timeout=1).close()
    assert blocked_network == []
