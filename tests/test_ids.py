"""Seeded id factories produce AWS-shaped ids."""

from __future__ import annotations

import re
import uuid

from esmsim._core import IdFactory, Seeds


def test_uuid4_ids_are_version_4_uuids() -> None:
    """Message and request ids are canonical version-4 UUID strings."""
    ids = Seeds(1).ids("sqs", "q")
    value = ids.uuid4()
    assert uuid.UUID(value).version == 4
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
    )


def test_hex_tokens_and_digits_have_the_requested_shape() -> None:
    """``hex``, ``token`` and ``digits`` give the sizes asked for."""
    ids = IdFactory(Seeds(1).rng("x", "y"))
    assert re.fullmatch(r"[0-9a-f]{32}", ids.hex(16))
    assert ids.token(48, prefix="AQEB").startswith("AQEB")
    digits = ids.digits(20)
    assert len(digits) == 20 and digits.isdigit() and digits[0] != "0"


def test_seeded_ids_repeat_for_the_same_seed() -> None:
    """The same (seed, kind, name) yields the same id sequence."""
    first = [Seeds(5).ids("request", "fn").uuid4() for _ in range(2)]
    assert first[0] == first[1]
    assert Seeds(5).ids("request", "fn").uuid4() != Seeds(6).ids("request", "fn").uuid4()
