"""esmsim's own structlog pipeline.

esmsim never configures structlog globally and never touches the standard
library's root logger: the user's handler owns its logging, and it may use
structlog itself. Instead esmsim's loggers are wrapped with a private
processor chain whose settings (level, format, stream) the CLI sets through
``configure``. Library users get warnings on stderr by default and can turn
the rest on with ``esmsim.configure_logging``.

Every line carries ``sim_time``, the simulated time, read from the clock of
the simulation whose thread is logging (a context variable set on the
simulation's loop thread and inherited by its tasks and worker threads).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, Literal, TextIO

import structlog

from ._clock import Clock, format_iso_ms

__all__ = ("LogFormat", "capture", "configure", "current_clock", "get_logger")

LogFormat = Literal["console", "json"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_METHOD_LEVELS = {"warn": 30, "exception": 40, "msg": 20, "fatal": 50}

current_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar(
    "esmsim_clock", default=None
)


class _Settings:
    level = _LEVELS["warning"]
    format: LogFormat | None = None  # None: console on a TTY, JSON otherwise
    stream: TextIO | None = None  # None: sys.stderr at the time of each line
    captured: list[dict[str, Any]] | None = None


_settings = _Settings()


def configure(
    *, level: str = "info", format: LogFormat | None = None, stream: TextIO | None = None
) -> None:
    """Set esmsim's log level, format and stream (the CLI calls this).

    Args:
        level: ``debug``, ``info``, ``warning``, ``error`` or ``critical``.
        format: ``console`` or ``json``; ``None`` picks console on a TTY.
        stream: where lines go; ``None`` means ``sys.stderr``.
    """
    if level not in _LEVELS:
        allowed = ", ".join(_LEVELS)
        raise ValueError(f"log level {level!r} is not one of: {allowed}")
    if format not in (None, "console", "json"):
        raise ValueError(f"log format {format!r} is not one of: console, json")
    _settings.level = _LEVELS[level]
    _settings.format = format
    _settings.stream = stream


def debug_enabled() -> bool:
    """Whether debug lines would be kept: hot paths check this before building one."""
    return _settings.level <= _LEVELS["debug"]


def _filter_level(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if _LEVELS.get(method, _METHOD_LEVELS.get(method, 20)) < _settings.level:
        raise structlog.DropEvent
    return event


def _add_sim_time(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    clock = current_clock.get()
    if clock is not None:
        event["sim_time"] = format_iso_ms(clock.now_ms())
    return event


def _capture_or_pass(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if _settings.captured is not None:
        _settings.captured.append(dict(event))
        raise structlog.DropEvent
    return event


_json = structlog.processors.JSONRenderer(sort_keys=True)
_console_plain = structlog.dev.ConsoleRenderer(colors=False, timestamp_key="sim_time")
_console_color = structlog.dev.ConsoleRenderer(colors=True, timestamp_key="sim_time")


def _stream() -> TextIO:
    return _settings.stream if _settings.stream is not None else sys.stderr


def _render(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    stream = _stream()
    tty = bool(getattr(stream, "isatty", lambda: False)())
    fmt = _settings.format or ("console" if tty else "json")
    if fmt == "json":
        return str(_json(logger, method, event))
    renderer = _console_color if tty else _console_plain
    return renderer(logger, method, event)


class _Sink:
    """Writes one rendered line to the stream chosen at write time."""

    def msg(self, message: str) -> None:
        stream = _stream()
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


_PROCESSORS: list[structlog.typing.Processor] = [
    _filter_level,
    structlog.processors.add_log_level,
    _add_sim_time,
    _capture_or_pass,
    structlog.processors.format_exc_info,
    _render,
]


def get_logger(**bound: Any) -> Any:
    """A structlog logger on esmsim's private pipeline, with ``bound`` context."""
    logger = structlog.wrap_logger(
        _Sink(),
        processors=_PROCESSORS,
        wrapper_class=structlog.BoundLogger,
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    return logger.bind(**bound) if bound else logger


@contextlib.contextmanager
def capture(level: str = "debug") -> Iterator[list[dict[str, Any]]]:
    """Collect esmsim's log events as dicts instead of writing them."""
    saved_level, saved = _settings.level, _settings.captured
    captured: list[dict[str, Any]] = []
    _settings.level, _settings.captured = _LEVELS[level], captured
    try:
        yield captured
    finally:
        _settings.level, _settings.captured = saved_level, saved
