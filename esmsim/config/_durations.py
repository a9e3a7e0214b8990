"""Durations as people write them: ``90``, ``250ms``, ``90s``, ``30m``, ``48h``, ``1h30m``."""

from __future__ import annotations

import re

__all__ = ("parse_duration",)

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhdw])")


def parse_duration(value: object) -> float:
    """Seconds in ``value`` (a number of seconds, or text like ``48h`` / ``1h30m``).

    Raises:
        ValueError: with a message saying what is allowed.
    """
    if isinstance(value, bool):
        raise ValueError(
            f"{value!r} is not a duration; use seconds or text like 250ms, 90s, 30m, 48h, 7d"
        )
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative; a duration must be >= 0")
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        try:
            return parse_duration(float(text))
        except ValueError:
            pass
        pos, total = 0, 0.0
        for match in _PART.finditer(text):
            if match.start() != pos:
                break
            total += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if text and pos == len(text):
            return total
    raise ValueError(
        f"{value!r} is not a duration; use seconds or text like 250ms, 90s, 30m, 48h, 7d"
    )
