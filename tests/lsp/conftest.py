"""Fixtures of the language-server tests: a raw ``distill lsp`` on a copy of the shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.lsp_raw import RawServer, raw_server


@pytest.fixture
def server(shop: Path) -> Iterator[RawServer]:
    """A raw ``distill lsp`` (tests/lsp/lsp_raw.py) on the ``shop`` copy, shut down after."""
    with raw_server(shop) as raw:
        yield raw
