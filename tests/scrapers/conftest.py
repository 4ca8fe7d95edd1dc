"""Fixtures for scraper tests: a loopback HTTP server and a fake clock for politeness waits."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from loopback_server import LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A started loopback server, stopped after the test."""
    with LoopbackServer() as srv:
        yield srv


class FakeTime:
    """A clock that only moves when the code under test sleeps; records every sleep."""

    def __init__(self, start: float = 1000.0, advance: bool = True) -> None:
        self.now = start
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 6))
            if self.advance:
                self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
