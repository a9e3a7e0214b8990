"""Loading handlers: callables, handler strings, code directories, load errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import esmsim
from esmsim.handlers import HandlerLoadError

from .conftest import Invoke
from .events import sqs_event

PROJECT = Path(esmsim.__file__).resolve().parent.parent
"""The folder holding the esmsim package."""


def write(folder: Path, relative: str, source: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))


@pytest.mark.asyncio
async def test_lambda_handler_string_imports_module_from_code_dir(
    sim: esmsim.Simulation, invoke: Invoke, tmp_path: Path
) -> None:
    """``"module.function"`` (Lambda's form) is resolved in the function's ``code_dir``."""
    write(tmp_path, "app.py", "def handler(event, context):\n    return {'from': 'app'}\n")
    fn = sim.function("fn", "app.handler", code_dir=tmp_path)
    assert (await invoke(fn, lambda: sqs_event(1))).response == {"from": "app"}


@pytest.mark.asyncio
async def test_slash_handler_string_names_a_module_in_a_package(
    sim: esmsim.Simulation, invoke: Invoke, tmp_path: Path
) -> None:
    """``"package/module.function"`` imports ``package.module`` from ``code_dir``."""
    write(tmp_path, "orders/__init__.py", "")
    write(tmp_path, "orders/consumer.py", "def handle(event, context):\n    return 'pkg'\n")
    fn = sim.function("fn", "orders/consumer.handle", code_dir=tmp_path)
    assert (await invoke(fn, lambda: sqs_event(1))).response == "pkg"


@pytest.mark.asyncio
async def test_entry_point_handler_string_takes_an_attribute_path(
    sim: esmsim.Simulation, invoke: Invoke, tmp_path: Path
) -> None:
    """``"package.module:Object.method"`` resolves a dotted attribute after the colon."""
    write(tmp_path, "svc/__init__.py", "")
    write(
        tmp_path,
        "svc/api.py",
        """
        class Handler:
            @staticmethod
            def handle(event, context):
                return len(event["Records"])
        """,
    )
    fn = sim.function("fn", "svc.api:Handler.handle", code_dir=tmp_path)
    assert (await invoke(fn, lambda: sqs_event(2))).response == 2


@pytest.mark.asyncio
async def test_installed_handler_string_imports_from_sys_path_even_with_a_code_dir(
    sim: esmsim.Simulation, invoke: Invoke, tmp_path: Path
) -> None:
    """A module the code dir does not contain (a built-in handler) imports normally."""
    fn = sim.function("fn", "esmsim.handlers.builtin.succeed", code_dir=tmp_path)
    assert (await invoke(fn, lambda: sqs_event(1))).status == "success"


@pytest.mark.asyncio
async def test_same_module_name_in_two_code_dirs_loads_twice(
    sim: esmsim.Simulation, invoke: Invoke, tmp_path: Path
) -> None:
    """Two code dirs with ``app.py`` (and its sibling ``helper.py``) each get their own modules."""
    for name in ("one", "two"):
        write(tmp_path / name, "helper.py", f"WHO = {name!r}\n")
        write(
            tmp_path / name,
            "app.py",
            "import helper\n\ndef handler(event, context):\n    return helper.WHO\n",
        )
    first = sim.function("first", "app.handler", code_dir=tmp_path / "one")
    second = sim.function("second", "app.handler", code_dir=tmp_path / "two")
    assert (await invoke(first, lambda: sqs_event(1))).response == "one"
    assert (await invoke(second, lambda: sqs_event(1))).response == "two"


def test_loading_from_a_code_dir_leaves_sys_path_and_sys_modules_alone(tmp_path: Path) -> None:
    """Afterwards the code dir is not on ``sys.path`` and its modules not in ``sys.modules``."""
    write(tmp_path, "private_app.py", "def handler(event, context):\n    return None\n")
    path_before = list(sys.path)
    with esmsim.Simulation() as sim:
        sim.function("fn", "private_app.handler", code_dir=tmp_path)
    assert sys.path == path_before
    assert "private_app" not in sys.modules


@pytest.mark.parametrize(
    ("handler", "error_type", "named"),
    [
        ("nodot", "Runtime.MalformedHandlerName", "nodot"),
        ("no_such_module_xyz.handler", "Runtime.ImportModuleError", "no_such_module_xyz"),
        ("app.missing", "Runtime.HandlerNotFound", "missing"),
        ("app.VALUE", "Runtime.HandlerNotFound", "VALUE"),
        ("broken.handler", "Runtime.UserCodeSyntaxError", "broken"),
        ("sys.exit", "Runtime.BuiltInModuleConflict", "sys"),
    ],
)
def test_bad_handler_raises_lambdas_init_error_naming_what_is_missing(
    tmp_path: Path, handler: str, error_type: str, named: str
) -> None:
    """Bad handler strings raise ``HandlerLoadError`` with the runtime's error type and culprit."""
    write(tmp_path, "app.py", "VALUE = 42\n\ndef handler(event, context):\n    return None\n")
    write(tmp_path, "broken.py", "def handler(event, context)\n    return None\n")
    with esmsim.Simulation() as sim, pytest.raises(HandlerLoadError) as caught:
        sim.function("fn", handler, code_dir=tmp_path)
    assert caught.value.error_type == error_type
    assert named in str(caught.value)
    assert caught.value.handler == handler


def test_non_callable_handler_object_is_a_type_error() -> None:
    """A handler that is neither a string nor a callable is a ``TypeError``."""
    with esmsim.Simulation() as sim, pytest.raises(TypeError, match="handler: expected a callable"):
        sim.function("fn", 42)


@pytest.mark.asyncio
async def test_bad_handler_leaves_the_simulation_usable(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A failed load registers nothing; the same name then works and the simulation runs on."""
    with pytest.raises(HandlerLoadError):
        sim.function("fn", "no_such_module_xyz.handler")
    fn = sim.function("fn", "esmsim.handlers.builtin.succeed")
    assert (await invoke(fn, lambda: sqs_event(1))).status == "success"
    await sim.run(1)


@pytest.mark.asyncio
async def test_package_the_host_imported_from_the_code_dir_is_shared(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A code dir holding an already imported package (esmsim itself) reuses it, no second copy."""
    fn = sim.function("fn", "esmsim.handlers.builtin.partial", code_dir=PROJECT)
    inv = await invoke(fn, lambda: sqs_event(2))
    assert (inv.status, inv.response) == ("success", {"batchItemFailures": []})
