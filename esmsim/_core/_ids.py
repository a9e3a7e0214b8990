"""Seeded randomness and id factories.

One master seed drives everything. Each component derives its own
``random.Random`` from a string (``"<seed>:<kind>:<name>"``); string seeds are
hashed with SHA-512 by ``random``, so the streams do not depend on
``PYTHONHASHSEED`` and adding a component never shifts another component's
numbers.
"""

from __future__ import annotations

import base64
import random

__all__ = ("IdFactory", "Seeds")


class Seeds:
    """The master seed and the per-component generators derived from it."""

    __slots__ = ("seed",)

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, kind: str, name: str) -> random.Random:
        """A generator of its own for component ``kind``/``name``."""
        return random.Random(f"{self.seed}:{kind}:{name}")

    def ids(self, kind: str, name: str) -> IdFactory:
        """An id factory of its own for component ``kind``/``name``."""
        return IdFactory(self.rng(kind, name))


# Version 4 in bits 76..79, variant 0b10 in bits 62..63 (what uuid.UUID(version=4) sets).
_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)


class IdFactory:
    """Ids in AWS's shapes, drawn from one seeded generator."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    @property
    def rng(self) -> random.Random:
        """The generator behind these ids."""
        return self._rng

    def uuid4(self) -> str:
        """A version-4 UUID string (message ids, request ids).

        The text ``str(uuid.UUID(int=bits, version=4))`` gives, without making a
        ``UUID`` (this runs once per invocation and per message): set the version
        nibble and the RFC 4122 variant bits, then print the dashed hex.
        """
        bits = self._rng.getrandbits(128) & _UUID_KEEP | _UUID_SET
        h = f"{bits:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hex(self, nbytes: int) -> str:
        """``2*nbytes`` lowercase hex digits (DynamoDB event ids, log streams)."""
        return self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def token(self, nbytes: int, prefix: str = "") -> str:
        """An opaque base64 token (SQS receipt handles look like this)."""
        raw = self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        return prefix + base64.b64encode(raw).decode("ascii")

    def digits(self, count: int) -> str:
        """``count`` decimal digits, the first one non-zero."""
        first = str(self._rng.randint(1, 9))
        if count == 1:
            return first
        return first + str(self._rng.randrange(10 ** (count - 1))).zfill(count - 1)
