"""CloudFormation intrinsic functions, resolved locally.

Supported: ``Ref`` (resources, parameters, pseudo parameters), ``Fn::GetAtt``
(list or dotted string), ``Fn::Sub`` (string or ``[string, variables]``),
``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::Base64``, ``Fn::FindInMap``,
``Fn::GetAZs`` and ``Fn::ToJsonString``. Conditions (``Fn::If`` and friends)
and ``Fn::ImportValue`` are reported as unsupported.

What ``Ref`` and ``Fn::GetAtt`` give comes from a ``Lookup``: the loader
predicts values from names (to check a config without building it), the
builder reads them off the resources it created.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = (
    "INVALID",
    "NO_VALUE",
    "Lookup",
    "Resolver",
    "is_intrinsic",
    "references",
)

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_UNSUPPORTED = {
    "Fn::If": "conditions (Fn::If) are not supported by esmsim; write the value you want",
    "Fn::Equals": "conditions (Fn::Equals) are not supported by esmsim",
    "Fn::And": "conditions (Fn::And) are not supported by esmsim",
    "Fn::Or": "conditions (Fn::Or) are not supported by esmsim",
    "Fn::Not": "conditions (Fn::Not) are not supported by esmsim",
    "Condition": "conditions are not supported by esmsim",
    "Fn::ImportValue": "Fn::ImportValue needs other stacks; esmsim cannot resolve it",
    "Fn::Cidr": "Fn::Cidr is not supported by esmsim",
    "Fn::Transform": "Fn::Transform (macros) is not supported by esmsim",
    "Fn::Length": "Fn::Length is not supported by esmsim",
}


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INVALID: Any = _Marker("<invalid>")
"""What an intrinsic that could not be resolved gives (its problem is reported)."""

NO_VALUE: Any = _Marker("<AWS::NoValue>")
"""``Ref: AWS::NoValue``: the property is dropped, as CloudFormation drops it."""


class ResolveError(Exception):
    """An intrinsic cannot be resolved (the message says why)."""


@dataclass
class Lookup:
    """Where ``Ref`` and ``Fn::GetAtt`` values come from.

    Attributes:
        ref: logical id -> what ``Ref`` gives (raises ``ResolveError`` when unknown).
        getatt: (logical id, attribute) -> the attribute (raises ``ResolveError``).
        pseudo: pseudo parameter name -> value.
        parameters: parameter name -> its Default.
        mappings: the template's ``Mappings`` section.
    """

    ref: Callable[[str], Any]
    getatt: Callable[[str, str], Any]
    pseudo: dict[str, Any]
    parameters: dict[str, Any]
    mappings: dict[str, Any]


def is_intrinsic(value: Any) -> bool:
    """True when ``value`` is a one-key mapping naming an intrinsic function."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition")


def _getatt_parts(arg: Any) -> tuple[str, str] | None:
    if isinstance(arg, str):
        logical, _, attr = arg.partition(".")
        return (logical, attr) if logical and attr else None
    if (
        isinstance(arg, list)
        and len(arg) == 2
        and isinstance(arg[0], str)
        and isinstance(arg[1], str)
        and arg[0]
        and arg[1]
    ):
        return arg[0], arg[1]
    return None


def _sub_parts(arg: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(arg, str):
        return arg, {}
    if (
        isinstance(arg, list)
        and len(arg) == 2
        and isinstance(arg[0], str)
        and isinstance(arg[1], dict)
    ):
        return arg[0], arg[1]
    return None


def references(value: Any) -> Iterator[str]:
    """Every name a value refers to through ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``.

    Names include parameters and pseudo parameters; callers keep the ones that are
    resources.
    """
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    if is_intrinsic(value):
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            yield arg
            return
        if key == "Fn::GetAtt":
            parts = _getatt_parts(arg)
            if parts is not None:
                yield parts[0]
            return
        if key == "Fn::Sub":
            sub = _sub_parts(arg)
            if sub is not None:
                text, variables = sub
                for match in _SUB_VAR.finditer(text):
                    name = match.group(1).strip()
                    if name.startswith("!"):
                        continue
                    head = name.split(".", 1)[0]
                    if head not in variables:
                        yield head
                yield from references(variables)
            return
    for item in value.values():
        yield from references(item)


class Resolver:
    """Resolves intrinsics in a value, reporting each problem with its path."""

    def __init__(self, lookup: Lookup, problems: list[str]) -> None:
        self.lookup = lookup
        self.problems = problems

    def resolve(self, value: Any, path: str) -> Any:
        """``value`` with every intrinsic replaced (``INVALID`` where one failed)."""
        if isinstance(value, list):
            out_list = []
            for i, item in enumerate(value):
                resolved = self.resolve(item, f"{path}[{i}]")
                if resolved is not NO_VALUE:
                    out_list.append(resolved)
            return out_list
        if not isinstance(value, dict):
            return value
        if is_intrinsic(value):
            ((key, arg),) = value.items()
            try:
                return self._intrinsic(key, arg, path)
            except ResolveError as exc:
                self.problems.append(f"{path}: {exc}")
                return INVALID
        out: dict[str, Any] = {}
        for key, item in value.items():
            resolved = self.resolve(item, f"{path}.{key}")
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _value(self, value: Any, path: str) -> Any:
        """Resolve an argument; a failure inside stops the enclosing function."""
        before = len(self.problems)
        resolved = self.resolve(value, path)
        if len(self.problems) > before or _contains_invalid(resolved):
            raise _Reported()
        return resolved

    def _intrinsic(self, key: str, arg: Any, path: str) -> Any:
        try:
            return self._dispatch(key, arg, path)
        except _Reported:
            return INVALID

    def _dispatch(self, key: str, arg: Any, path: str) -> Any:
        if key == "Ref":
            if not isinstance(arg, str):
                raise ResolveError("Ref: expected the name of a resource or parameter")
            return self._ref(arg)
        if key == "Fn::GetAtt":
            parts = _getatt_parts(arg)
            if parts is None:
                raise ResolveError(
                    "Fn::GetAtt: expected LogicalId.Attribute or [LogicalId, Attribute]"
                )
            return self.lookup.getatt(*parts)
        if key == "Fn::Sub":
            return self._sub(arg, path)
        if key == "Fn::Join":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise ResolveError("Fn::Join: expected [delimiter, [values...]]")
            delimiter = self._value(arg[0], f"{path}.Fn::Join[0]")
            items = self._value(arg[1], f"{path}.Fn::Join[1]")
            if not isinstance(delimiter, str) or not isinstance(items, list):
                raise ResolveError("Fn::Join: expected [delimiter, [values...]]")
            return delimiter.join(_text(item, "Fn::Join") for item in items)
        if key == "Fn::Select":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise ResolveError("Fn::Select: expected [index, [values...]]")
            index = self._value(arg[0], f"{path}.Fn::Select[0]")
            items = self._value(arg[1], f"{path}.Fn::Select[1]")
            if isinstance(index, str) and index.isdigit():
                index = int(index)
            if isinstance(index, bool) or not isinstance(index, int) or not isinstance(items, list):
                raise ResolveError("Fn::Select: expected [index, [values...]]")
            if not 0 <= index < len(items):
                raise ResolveError(f"Fn::Select: index {index} is outside the list of {len(items)}")
            return items[index]
        if key == "Fn::Split":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise ResolveError("Fn::Split: expected [delimiter, text]")
            delimiter = self._value(arg[0], f"{path}.Fn::Split[0]")
            text = self._value(arg[1], f"{path}.Fn::Split[1]")
            if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
                raise ResolveError("Fn::Split: expected [delimiter, text]")
            return text.split(delimiter)
        if key == "Fn::Base64":
            text = self._value(arg, f"{path}.Fn::Base64")
            return base64.b64encode(_text(text, "Fn::Base64").encode()).decode("ascii")
        if key == "Fn::GetAZs":
            region = self.lookup.pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::FindInMap":
            return self._find_in_map(arg, path)
        if key == "Fn::ToJsonString":
            return json.dumps(self._value(arg, f"{path}.Fn::ToJsonString"), separators=(",", ":"))
        if key in _UNSUPPORTED:
            raise ResolveError(_UNSUPPORTED[key])
        raise ResolveError(f"{key}: unknown intrinsic function")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.lookup.pseudo:
            return self.lookup.pseudo[name]
        if name.startswith("AWS::"):
            raise ResolveError(f"Ref: {name} is not a pseudo parameter esmsim knows")
        if name in self.lookup.parameters:
            return self.lookup.parameters[name]
        return self.lookup.ref(name)

    def _sub(self, arg: Any, path: str) -> str:
        sub = _sub_parts(arg)
        if sub is None:
            raise ResolveError("Fn::Sub: expected a string or [string, {variables}]")
        text, raw_vars = sub
        variables = {
            str(name): self._value(value, f"{path}.Fn::Sub[1].{name}")
            for name, value in raw_vars.items()
        }

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name], "Fn::Sub")
            if "." in name and not name.startswith("AWS::"):
                logical, _, attr = name.partition(".")
                return _text(self.lookup.getatt(logical, attr), "Fn::Sub")
            value = self._ref(name)
            if value is NO_VALUE:
                raise ResolveError("Fn::Sub: ${AWS::NoValue} cannot be substituted")
            return _text(value, "Fn::Sub")

        return _SUB_VAR.sub(replace, text)

    def _find_in_map(self, arg: Any, path: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise ResolveError("Fn::FindInMap: expected [MapName, TopLevelKey, SecondLevelKey]")
        keys = [self._value(item, f"{path}.Fn::FindInMap[{i}]") for i, item in enumerate(arg)]
        node: Any = self.lookup.mappings
        for key in keys:
            if not isinstance(node, dict) or str(key) not in node:
                raise ResolveError(
                    f"Fn::FindInMap: no entry {'.'.join(map(str, keys))} in Mappings"
                )
            node = node[str(key)]
        return node


class _Reported(Exception):
    """A problem inside an argument was already reported."""


def _contains_invalid(value: Any) -> bool:
    if value is INVALID:
        return True
    if isinstance(value, list):
        return any(_contains_invalid(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_invalid(v) for v in value.values())
    return False


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ResolveError(f"{where}: expected text, got {type(value).__name__} {value!r}")
