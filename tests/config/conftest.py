"""Helpers for config tests: write a config (and its handler code) into a folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

HANDLER = "def handler(event, context):\n    return None\n"

WriteConfig = Callable[[str], Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write YAML text (dedented) to ``tmp_path/config.yaml``, with ``src/app.py`` beside it."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    (tmp_path / "app.py").write_text(HANDLER)

    def write(text: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    return write
