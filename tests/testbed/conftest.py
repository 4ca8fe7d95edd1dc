"""Shared fixtures: one 50-portal network per session, and that network served in a thread.

Each session serves on its own loopback block and a port free on its first address, so
that parallel test runs (and other workers' testbeds) never collide.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from testbed_helpers import free_base_and_port

from audit.catalog import load_catalog
from testbed import generate_network, serve_in_thread
from testbed.network import Network

SEED = 7
SIZE = 50


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("LGTAIP-2015")


@pytest.fixture(scope="session")
def net50(catalog) -> Network:
    base, port = free_base_and_port()
    return generate_network(SEED, SIZE, base=base, port=port, catalog=catalog)


@pytest.fixture(scope="session")
def served(net50):
    with serve_in_thread(net50) as handle:
        yield handle


@pytest.fixture(scope="session")
def written50(net50, tmp_path_factory) -> dict[str, Path]:
    return net50.write(tmp_path_factory.mktemp("net50"))
