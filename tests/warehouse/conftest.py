"""Fixtures of the warehouse tests (helpers live in ``warehouse_helpers``, imported by
module name: a second ``conftest`` elsewhere in the tree would shadow ``import conftest``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lupa.duckdb"
