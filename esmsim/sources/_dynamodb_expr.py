"""DynamoDB ``UpdateExpression``: parse it, then apply it to an item.

Supported, as DynamoDB defines them:

* ``SET path = operand [+|- operand], ...`` where an operand is a document
  path, a ``:value``, ``if_not_exists(path, operand)`` or
  ``list_append(operand, operand)``; ``+``/``-`` work on numbers;
* ``REMOVE path, ...`` (removing a missing attribute is a no-op; list
  elements removed together are removed as if at once);
* ``ADD path :value, ...`` (numbers add, sets union, a missing attribute is
  created) and ``DELETE path :value, ...`` (set difference; an emptied set is
  removed);
* document paths with ``.name`` and ``[index]`` parts, ``#name`` placeholders.

Every operand is evaluated against the item as it was before the update, as
DynamoDB does. Errors use DynamoDB's message text. Not modelled: reserved
words (DynamoDB rejects e.g. ``status`` unless written ``#status``),
condition expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._dynamodb_values import AttributeValue, Item, add_numbers, copy_value
from ._errors import ValidationException

__all__ = ("Path", "UpdatePlan", "apply_update", "parse_update")

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<ph>#[A-Za-z0-9_]+)|(?P<val>:[A-Za-z0-9_]+)"
    r"|(?P<int>\d+)|(?P<op>[=+\-,().\[\]]))"
)
_SECTIONS = ("SET", "REMOVE", "ADD", "DELETE")
_FUNCTIONS = ("if_not_exists", "list_append")


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: a top-level name, then map keys (str) and list indexes (int)."""

    parts: tuple[str | int, ...]

    def __str__(self) -> str:
        out = ""
        for part in self.parts:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


@dataclass(frozen=True, slots=True)
class _Value:
    name: str


@dataclass(frozen=True, slots=True)
class _Call:
    function: str
    args: tuple[_Operand, ...]


_Operand = Path | _Value | _Call


@dataclass(frozen=True, slots=True)
class _Set:
    path: Path
    left: _Operand
    op: str | None
    right: _Operand | None


@dataclass
class UpdatePlan:
    """A parsed update expression, with the placeholders it used."""

    sets: list[_Set] = field(default_factory=list)
    removes: list[Path] = field(default_factory=list)
    adds: list[tuple[Path, _Value]] = field(default_factory=list)
    deletes: list[tuple[Path, _Value]] = field(default_factory=list)
    names_used: set[str] = field(default_factory=set)
    values_used: set[str] = field(default_factory=set)

    def paths(self) -> list[Path]:
        """Every path the update writes, in expression order."""
        return [
            *(s.path for s in self.sets),
            *self.removes,
            *(p for p, _ in self.adds),
            *(p for p, _ in self.deletes),
        ]


def _invalid(detail: str) -> ValidationException:
    return ValidationException(f"UpdateExpression: Invalid UpdateExpression: {detail}")


class _Parser:
    def __init__(self, text: str, names: dict[str, str]) -> None:
        self.text = text
        self.names = names
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.lastgroup is None:
                bad = text[pos:].strip()[:1]
                raise _invalid(f'Syntax error; token: "{bad}", near: "{text[pos:].strip()[:20]}"')
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        self.i = 0
        self.plan = UpdatePlan()

    # -- token helpers ------------------------------------------------------------------
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid(f'Syntax error; token: "<EOF>", near: "{self.text[-20:]}"')
        self.i += 1
        return token

    def expect_op(self, op: str) -> None:
        kind, text = self.next()
        if kind != "op" or text != op:
            raise _invalid(f'Syntax error; token: "{text}", near: "{self._near()}"')

    def at_op(self, op: str) -> bool:
        token = self.peek()
        return token is not None and token == ("op", op)

    def at_section(self) -> bool:
        token = self.peek()
        return token is not None and token[0] == "name" and token[1].upper() in _SECTIONS

    def _near(self) -> str:
        lo = max(0, self.i - 2)
        return " ".join(t for _, t in self.tokens[lo : self.i + 1])

    # -- grammar ------------------------------------------------------------------------
    def parse(self) -> UpdatePlan:
        if not self.tokens:
            raise _invalid("The expression can not be empty;")
        seen: set[str] = set()
        while self.peek() is not None:
            if not self.at_section():
                _, text = self.next()
                raise _invalid(f'Syntax error; token: "{text}", near: "{self._near()}"')
            section = self.next()[1].upper()
            if section in seen:
                raise _invalid(
                    f'The "{section}" section can only be used once in an update expression;'
                )
            seen.add(section)
            while True:
                self.action(section)
                if self.at_op(","):
                    self.i += 1
                    continue
                break
        return self.plan

    def action(self, section: str) -> None:
        path = self.path()
        if section == "SET":
            self.expect_op("=")
            left = self.operand()
            op: str | None = None
            right: _Operand | None = None
            if self.at_op("+") or self.at_op("-"):
                op = self.next()[1]
                right = self.operand()
            self.plan.sets.append(_Set(path, left, op, right))
        elif section == "REMOVE":
            self.plan.removes.append(path)
        else:
            value = self.value()
            (self.plan.adds if section == "ADD" else self.plan.deletes).append((path, value))

    def element(self) -> str:
        kind, text = self.next()
        if kind == "name":
            return text
        if kind == "ph":
            if text not in self.names:
                raise ValidationException(
                    "UpdateExpression: An expression attribute name used in the document path "
                    f"is not defined; attribute name: {text}"
                )
            self.plan.names_used.add(text)
            return self.names[text]
        raise _invalid(f'Syntax error; token: "{text}", near: "{self._near()}"')

    def path(self) -> Path:
        parts: list[str | int] = [self.element()]
        while True:
            if self.at_op("."):
                self.i += 1
                parts.append(self.element())
            elif self.at_op("["):
                self.i += 1
                kind, text = self.next()
                if kind != "int":
                    raise _invalid(f'Syntax error; token: "{text}", near: "{self._near()}"')
                parts.append(int(text))
                self.expect_op("]")
            else:
                return Path(tuple(parts))

    def value(self) -> _Value:
        kind, text = self.next()
        if kind != "val":
            raise _invalid(f'Syntax error; token: "{text}", near: "{self._near()}"')
        self.plan.values_used.add(text)
        return _Value(text)

    def operand(self) -> _Operand:
        token = self.peek()
        if token is not None and token[0] == "val":
            return self.value()
        if token is not None and token[0] == "name":
            after = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
            if after == ("op", "("):
                return self.call()
        return self.path()

    def call(self) -> _Call:
        name = self.next()[1]
        if name not in _FUNCTIONS:
            raise _invalid(f"The function is not allowed in an update expression; function: {name}")
        self.expect_op("(")
        args = [self.operand()]
        while self.at_op(","):
            self.i += 1
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != 2:
            raise _invalid(
                f"Incorrect number of operands for operator or function; operator or function: "
                f"{name}, number of operands: {len(args)}"
            )
        if name == "if_not_exists" and not isinstance(args[0], Path):
            raise _invalid(
                "Operator or function requires a document path; operator or function: if_not_exists"
            )
        return _Call(name, tuple(args))


def parse_update(expression: str, names: dict[str, str]) -> UpdatePlan:
    """Parse ``expression``; names (``#n`` -> name) are resolved, values checked later."""
    if not isinstance(expression, str):
        raise TypeError(f"UpdateExpression: expected a str, got {type(expression).__name__}")
    return _Parser(expression, names).parse()


# -- applying -----------------------------------------------------------------------------
def _overlap(a: Path, b: Path) -> bool:
    n = min(len(a.parts), len(b.parts))
    return a.parts[:n] == b.parts[:n]


def _resolve(item: Item, path: Path) -> AttributeValue | None:
    value: Any = item.get(str(path.parts[0]))
    for part in path.parts[1:]:
        if value is None:
            return None
        if isinstance(part, int):
            items = value.get("L")
            value = items[part] if items is not None and part < len(items) else None
        else:
            members = value.get("M")
            value = members.get(part) if members is not None else None
    found: AttributeValue | None = value
    return found


def _wrong_type() -> ValidationException:
    return ValidationException(
        "UpdateExpression: An operand in the update expression has an incorrect data type"
    )


def _evaluate(operand: _Operand, item: Item, values: dict[str, AttributeValue]) -> AttributeValue:
    if isinstance(operand, _Value):
        return copy_value(values[operand.name])
    if isinstance(operand, Path):
        found = _resolve(item, operand)
        if found is None:
            raise ValidationException(
                "UpdateExpression: The provided expression refers to an attribute that does not "
                f"exist in the item (path: {operand})"
            )
        return copy_value(found)
    if operand.function == "if_not_exists":
        path = operand.args[0]
        assert isinstance(path, Path)
        found = _resolve(item, path)
        return copy_value(found) if found is not None else _evaluate(operand.args[1], item, values)
    first = _evaluate(operand.args[0], item, values)
    second = _evaluate(operand.args[1], item, values)
    if "L" not in first or "L" not in second:
        raise _wrong_type()
    return {"L": first["L"] + second["L"]}


def _assign(item: Item, path: Path, value: AttributeValue) -> None:
    if len(path.parts) == 1:
        item[str(path.parts[0])] = value
        return
    parent = _resolve(item, Path(path.parts[:-1]))
    last = path.parts[-1]
    invalid = ValidationException(
        "UpdateExpression: The document path provided in the update expression is invalid for "
        f"update (path: {path})"
    )
    if parent is None:
        raise invalid
    if isinstance(last, int):
        if "L" not in parent:
            raise invalid
        items = parent["L"]
        if last < len(items):
            items[last] = value
        else:
            items.append(value)
    else:
        if "M" not in parent:
            raise invalid
        parent["M"][last] = value


def _remove_all(item: Item, paths: list[Path]) -> None:
    # List elements are removed highest index first so that removing several
    # elements of one list means the elements the expression named.
    list_removals: list[tuple[int, list[Any], int]] = []
    for path in paths:
        if len(path.parts) == 1:
            item.pop(str(path.parts[0]), None)
            continue
        parent = _resolve(item, Path(path.parts[:-1]))
        last = path.parts[-1]
        if parent is None:
            continue
        if isinstance(last, int):
            items = parent.get("L")
            if items is not None and last < len(items):
                list_removals.append((id(items), items, last))
        elif "M" in parent:
            parent["M"].pop(last, None)
    for _, items, index in sorted(list_removals, key=lambda r: (r[0], -r[2])):
        del items[index]


def _add(item: Item, path: Path, value: AttributeValue) -> None:
    kind = next(iter(value))
    if kind not in ("N", "SS", "NS", "BS"):
        raise ValidationException(
            "UpdateExpression: Invalid UpdateExpression: Incorrect operand type for operator or "
            f"function; operator: ADD, operand type: {kind}"
        )
    current = _resolve(item, path)
    if current is None:
        _assign(item, path, value)
        return
    if kind not in current:
        raise _wrong_type()
    if kind == "N":
        _assign(item, path, {"N": add_numbers(current["N"], value["N"], False, str(path))})
    else:
        merged = set(current[kind]) | set(value[kind])
        _assign(item, path, {kind: _sorted_set(kind, merged)})


def _delete(item: Item, path: Path, value: AttributeValue) -> None:
    kind = next(iter(value))
    if kind not in ("SS", "NS", "BS"):
        raise ValidationException(
            "UpdateExpression: Invalid UpdateExpression: Incorrect operand type for operator or "
            f"function; operator: DELETE, operand type: {kind}"
        )
    current = _resolve(item, path)
    if current is None:
        return
    if kind not in current:
        raise _wrong_type()
    left = set(current[kind]) - set(value[kind])
    if left:
        _assign(item, path, {kind: _sorted_set(kind, left)})
    else:
        _remove_all(item, [path])


def _sorted_set(kind: str, members: set[Any]) -> list[Any]:
    if kind == "NS":
        return sorted(members, key=Decimal)
    return sorted(members)


def apply_update(
    plan: UpdatePlan,
    before: Item,
    values: dict[str, AttributeValue],
    key_names: tuple[str, ...],
) -> Item:
    """The item after the update (``before`` is not modified).

    ``before`` is the existing item, or just the key when the item does not
    exist yet (UpdateItem then creates it).
    """
    paths = plan.paths()
    for path in paths:
        if path.parts[0] in key_names:
            raise ValidationException(
                f"UpdateExpression: One or more parameter values were invalid: Cannot update "
                f"attribute {path.parts[0]}. This attribute is part of the key"
            )
    for i, a in enumerate(paths):
        for b in paths[i + 1 :]:
            if _overlap(a, b):
                raise _invalid(
                    "Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: [{a}], path two: [{b}]"
                )
    computed: list[tuple[Path, AttributeValue]] = []
    for action in plan.sets:
        value = _evaluate(action.left, before, values)
        if action.op is not None and action.right is not None:
            right = _evaluate(action.right, before, values)
            if "N" not in value or "N" not in right:
                raise _wrong_type()
            value = {"N": add_numbers(value["N"], right["N"], action.op == "-", str(action.path))}
        computed.append((action.path, value))
    after = {name: copy_value(v) for name, v in before.items()}
    for path, value in computed:
        _assign(after, path, value)
    _remove_all(after, plan.removes)
    for path, ref in plan.adds:
        _add(after, path, values[ref.name])
    for path, ref in plan.deletes:
        _delete(after, path, values[ref.name])
    return after
