"""Dotted paths into a config document: ``Resources.OrdersMapping.Properties.BatchSize``.

The same spelling ``esmsim validate`` uses for its problems, so a grid key can be
copied from an error message and back: mapping keys joined by dots, list items as
``[N]`` (``Simulation.Producers[0].Rate.PerSecond``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

__all__ = ("Segment", "assign", "format_path", "locate", "parse_path")

Segment = str | int
"""A mapping key, or a list index."""

_PART = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


def parse_path(text: str) -> tuple[Segment, ...]:
    """The segments of ``text``.

    Raises:
        ValueError: when ``text`` is not dotted keys with optional ``[N]`` indexes.
    """
    segments: list[Segment] = []
    for part in text.split("."):
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(
                f"{text!r} is not a dotted path such as "
                "Resources.OrdersMapping.Properties.BatchSize or Simulation.Producers[0].Rate"
            )
        segments.append(match.group(1))
        segments.extend(int(i) for i in _INDEX.findall(match.group(2)))
    return tuple(segments)


def format_path(segments: tuple[Segment, ...] | list[Segment]) -> str:
    out = ""
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += f".{segment}" if out else segment
    return out


def locate(doc: Any, segments: tuple[Segment, ...]) -> str | None:
    """Why ``segments`` cannot be set in ``doc``, or None when it can.

    Every segment but the last must exist, so a typo in a logical id is caught here;
    the last key may be new (``ParallelizationFactor`` on a mapping that leaves it at
    its default). A new key the config does not know is caught later, by the
    config's own checks.
    """
    node = doc
    for depth, segment in enumerate(segments):
        where = format_path(segments[:depth]) or "the top level"
        last = depth == len(segments) - 1
        if isinstance(segment, int):
            if not isinstance(node, list):
                return f"{where} is {_kind(node)}, not a list; no [{segment}] in it"
            if segment >= len(node):
                return f"{where} has {len(node)} items: [0] to [{len(node) - 1}]"
            node = node[segment]
            continue
        if isinstance(node, list):
            return f"{where} is a list; index it as {where}[0] to {where}[{len(node) - 1}]"
        if not isinstance(node, dict):
            return f"{where} is {_kind(node)}, not a mapping; it has no {segment}"
        if segment not in node:
            if last:
                return None
            return f"{where} has no {segment}{_hint(segment, node)}"
        node = node[segment]
    return None


def assign(doc: Any, segments: tuple[Segment, ...], value: Any) -> None:
    """Set ``segments`` in ``doc`` to ``value`` (``locate`` said it can be set)."""
    node = doc
    for segment in segments[:-1]:
        node = node[segment]
    node[segments[-1]] = value


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool | int | float):
        return f"the value {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {type(value).__name__}"


def _hint(name: str, node: dict[Any, Any]) -> str:
    keys = [str(k) for k in node]
    close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
    return f"; it has: {shown}" if keys else "; it is empty"
