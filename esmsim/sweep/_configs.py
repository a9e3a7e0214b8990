"""A config file with a grid point's overrides applied, checked as ``esmsim run`` checks it.

Overrides are applied to the parsed document (not to the text), and the result
goes through the config loader's own checks (``load_document``) with the file's real
path, so code folders and handlers resolve exactly as for the file itself. ``check_point`` adds
``esmsim validate``'s throwaway build (AWS's create-time errors) so that a bad
combination is reported before any run starts.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import ConfigError, RunConfig, load_document
from ..config._yaml import load_yaml
from ._paths import Segment, assign

__all__ = ("Override", "apply", "check_point", "load_point", "parse_document")

Override = tuple[tuple[Segment, ...], Any]
"""A grid path's segments and the value it takes."""


def parse_document(text: str, label: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The config text as a document, or the problems that stop it being one."""
    import yaml

    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        return None, [f"{label}: not valid YAML: {exc}"]
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return None, [f"{label}: the top level must be a mapping with Resources and Simulation"]
    return doc, []


def apply(doc: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A copy of ``doc`` with ``overrides`` set (the caller checked each can be set)."""
    out = copy.deepcopy(doc)
    for segments, value in overrides:
        assign(out, segments, copy.deepcopy(value))
    return out


def load_point(path: Path, doc: dict[str, Any]) -> RunConfig:
    """``doc`` (read from ``path``) as a ``RunConfig``: the static checks only, as
    ``esmsim run`` does before it builds.

    Raises:
        ConfigError: every problem, with its path.
    """
    return load_document(path, doc)


def check_point(path: Path, doc: dict[str, Any]) -> tuple[RunConfig | None, list[str]]:
    """``doc`` checked as ``esmsim validate`` checks a file: the static checks, then
    (when they pass) a build in a throwaway simulation that never runs.

    The config is None when the static checks fail (there is nothing to build)."""
    try:
        cfg = load_document(path, doc)
    except ConfigError as exc:
        return None, list(exc.problems)
    from ..simulation import Simulation

    problems: list[str] = []
    with Simulation(
        seed=cfg.seed, start_time=cfg.start_time, region=cfg.region, account_id=cfg.account_id
    ) as sim:
        try:
            cfg.build(sim)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return cfg, problems
