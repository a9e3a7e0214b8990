"""Turning a function's ``handler`` setting into a callable, the way Lambda's runtime does.

Accepted forms:

* a callable ``(event, context)``, plain or ``async def``;
* ``"package.module:function"`` (entry-point style; ``function`` may be a dotted
  attribute path such as ``Handler.handle``);
* Lambda's own ``"package/module.function"`` or ``"module.function"``: the part after
  the last dot is the function, the rest is the module (``/`` read as ``.``).

Failures mirror the Python runtime's init errors (awslambdaric): a handler without a
dot is ``Runtime.MalformedHandlerName``; a module that cannot be imported is
``Runtime.ImportModuleError``; a syntax error is ``Runtime.UserCodeSyntaxError``; a
missing attribute is ``Runtime.HandlerNotFound``. esmsim raises them as
``HandlerLoadError`` when the function is created (fail fast) instead of failing every
invocation as Lambda would.

Code directories: with ``code_dir`` (the folder Lambda would unpack as ``/var/task``),
modules that live in that folder are imported from it and then kept **private to the
function**: they are taken out of ``sys.modules`` after the import, so two functions
whose folders both contain ``app.py`` each get their own ``app``, and neither shadows a
module of the same name that the host process already imported. Module names the
folder does not provide (``esmsim.handlers.builtin``, installed packages) import
normally, and so does a module the host process already imported from that very folder
(a config file next to the project's own package). The folder is on ``sys.path`` only
while the handler module is imported. A folder that vendors packages the host also uses
(``pydantic/`` next to ``app.py``) gets its own private copies, as Lambda would use the
vendored ones.
Limitation: an ``import`` of one of the folder's own modules that runs *later*, inside
the handler body, does not see the folder; import them at module level (the usual
style, and what keeps Lambda cold starts cheap).
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import inspect
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .._core import EsmsimError

__all__ = ("HandlerLoadError", "LoadedHandler", "load_handler", "split_handler")

# One import at a time through this module: the sys.path / sys.modules juggling of a
# code directory must not interleave with another function's.
_IMPORT_LOCK = threading.RLock()


class HandlerLoadError(EsmsimError):
    """A handler could not be loaded; ``error_type`` is the Lambda runtime's name for why.

    Attributes:
        error_type: ``Runtime.MalformedHandlerName``, ``Runtime.ImportModuleError``,
            ``Runtime.UserCodeSyntaxError``, ``Runtime.HandlerNotFound``,
            ``Runtime.BuiltInModuleConflict``, or the class name of an exception the
            module raised while being imported.
        handler: the handler setting as given.
    """

    def __init__(self, error_type: str, message: str, handler: str) -> None:
        where = "" if repr(handler) in message else f" (handler {handler!r})"
        super().__init__(f"{error_type}: {message}{where}")
        self.error_type = error_type
        self.message = message
        self.handler = handler


@dataclass(frozen=True, slots=True)
class LoadedHandler:
    """A resolved handler, loaded once per function and cached.

    Attributes:
        func: the callable invoked as ``func(event, context)``.
        is_async: True for ``async def`` handlers (run on the simulation's loop).
        name: the handler in Lambda's ``module.function`` form (the ``_HANDLER``
            variable); for a callable, its module and qualified name.
        modules: the modules imported privately from the code directory.
    """

    func: Callable[..., Any]
    is_async: bool
    name: str
    modules: dict[str, ModuleType] = field(default_factory=dict)


def split_handler(handler: str) -> tuple[str, str]:
    """``(module, attribute)`` of a handler string, or ``HandlerLoadError``.

    ``"pkg.mod:fn"`` -> ``("pkg.mod", "fn")``; ``"pkg/mod.fn"`` -> ``("pkg.mod", "fn")``.
    """
    text = handler.strip()
    if ":" in text:
        module, _, attr = text.partition(":")
        reason = "expected 'package.module:function'"
    else:
        module, _, attr = text.rpartition(".")
        reason = "not enough values to unpack (expected 2, got 1)"
    module = module.replace("/", ".").strip(".")
    parts = module.split(".") + attr.split(".")
    if not module or not attr or not all(part.isidentifier() for part in parts):
        raise HandlerLoadError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': {reason}", handler
        )
    return module, attr


def load_handler(handler: object, code_dir: str | os.PathLike[str] | None = None) -> LoadedHandler:
    """Resolve ``handler`` (a callable or a handler string) to a ``LoadedHandler``.

    Args:
        handler: the function's handler setting.
        code_dir: the folder handler modules are resolved in (Lambda's task root);
            ``None`` imports from ``sys.path`` as usual.

    Raises:
        HandlerLoadError: the string is malformed, the module or attribute is missing,
            or the attribute is not callable.
        TypeError: ``handler`` is neither a string nor a callable.
    """
    if not isinstance(handler, str):
        if not callable(handler):
            raise TypeError(
                "handler: expected a callable (event, context) or a 'package.module:function'"
                f" string, got {type(handler).__name__}"
            )
        return LoadedHandler(handler, is_async_callable(handler), _callable_name(handler))
    module_name, attr = split_handler(handler)
    top = module_name.partition(".")[0]
    if top in sys.builtin_module_names:
        raise HandlerLoadError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
            handler,
        )
    modules: dict[str, ModuleType] = {}
    folder = None if code_dir is None else Path(code_dir).resolve()
    provided = _provided_names(folder) if folder is not None else frozenset()
    if folder is not None and top in provided:
        module, modules = _import_private(module_name, folder, provided, handler)
    else:
        module = _import(module_name, handler)
    func: Any = module
    for part in attr.split("."):
        try:
            func = getattr(func, part)
        except AttributeError:
            raise HandlerLoadError(
                "Runtime.HandlerNotFound",
                f"Handler '{attr}' missing on module '{module_name}'",
                handler,
            ) from None
    if not callable(func):
        raise HandlerLoadError(
            "Runtime.HandlerNotFound",
            f"Handler '{attr}' on module '{module_name}' is not callable"
            f" (it is a {type(func).__name__})",
            handler,
        )
    return LoadedHandler(func, is_async_callable(func), f"{module_name}.{attr}", modules)


def is_async_callable(func: object) -> bool:
    """True for ``async def`` functions, partials of them and objects with an async ``__call__``."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    if not callable(func) or inspect.isroutine(func) or inspect.isclass(func):
        return False
    return inspect.iscoroutinefunction(type(func).__call__)


def _callable_name(func: object) -> str:
    module = getattr(func, "__module__", None) or "__main__"
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{name}"


def _import(module_name: str, handler: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except SyntaxError as exc:
        raise HandlerLoadError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            handler,
        ) from exc
    except ImportError as exc:
        raise HandlerLoadError(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {exc}",
            handler,
        ) from exc
    except Exception as exc:
        raise HandlerLoadError(
            type(exc).__name__,
            f"Unable to import module '{module_name}': {type(exc).__name__}: {exc}",
            handler,
        ) from exc


def _provided_names(folder: Path) -> frozenset[str]:
    """Top-level module names that ``folder`` provides (files, packages, namespace dirs)."""
    if not folder.is_dir():
        raise HandlerLoadError(
            "Runtime.ImportModuleError",
            f"code_dir '{folder}' is not a directory",
            str(folder),
        )
    suffixes = tuple(importlib.machinery.all_suffixes())
    names: set[str] = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                name = entry.name
            elif entry.name.endswith(suffixes):
                name = entry.name.partition(".")[0]
            else:
                continue
            if name.isidentifier() and name != "__pycache__" and not _imported_from(name, folder):
                names.add(name)
    # The standard library always wins, as it does in Lambda (imported before user code).
    return frozenset(names - sys.stdlib_module_names)


def _imported_from(name: str, folder: Path) -> bool:
    """True when the host already imported ``name`` from this very folder.

    Then it is the same code (say, a config file next to the project's own package,
    esmsim included): use the host's module rather than a second, private copy.
    """
    module = sys.modules.get(name)
    if module is None:
        return False
    spec = getattr(module, "__spec__", None)
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    origin = getattr(spec, "origin", None)
    if origin:
        locations.append(origin)
    return any(Path(location).resolve().parent == folder for location in locations)


def _owned(name: str, provided: frozenset[str]) -> bool:
    return name.partition(".")[0] in provided


def _import_private(
    module_name: str, folder: Path, provided: frozenset[str], handler: str
) -> tuple[ModuleType, dict[str, ModuleType]]:
    """Import ``module_name`` from ``folder`` and take its folder's modules private.

    Same-named modules already in ``sys.modules`` are set aside for the import and put
    back afterwards; everything imported from the folder is removed from
    ``sys.modules`` and returned, so it stays alive through the handler's references
    without being visible to anyone else.
    """
    entry = str(folder)
    with _IMPORT_LOCK:
        hidden = {
            name: sys.modules.pop(name) for name in list(sys.modules) if _owned(name, provided)
        }
        sys.path.insert(0, entry)
        try:
            return _import(module_name, handler), _take_owned(provided)
        finally:
            _take_owned(provided)  # after a failed import, drop the half-imported modules
            if entry in sys.path:
                sys.path.remove(entry)
            sys.path_importer_cache.pop(entry, None)
            sys.modules.update(hidden)


def _take_owned(provided: frozenset[str]) -> dict[str, ModuleType]:
    return {name: sys.modules.pop(name) for name in list(sys.modules) if _owned(name, provided)}
