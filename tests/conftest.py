"""Shared test configuration.

pytest-asyncio runs in strict mode (``@pytest.mark.asyncio``), anyio's
plugin serves ``@pytest.mark.anyio`` tests on asyncio; neither is patched by
esmsim, which runs every simulation on its own loop.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """anyio-marked tests run on asyncio (the only backend esmsim supports)."""
    return "asyncio"
