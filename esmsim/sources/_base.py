"""What every simulated resource shares: a name, an ARN, its simulation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core import Clock

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("Resource",)


class Resource:
    """A resource made on a ``Simulation`` and registered there by ARN."""

    resource_type = "AWS::Resource"

    def __init__(self, sim: Simulation, name: str, arn: str) -> None:
        self._sim = sim
        self.name = name
        self.arn = arn
        self.deleted = False

    @property
    def sim(self) -> Simulation:
        """The simulation this resource lives in."""
        return self._sim

    @property
    def clock(self) -> Clock:
        """The simulation's clock."""
        return self._sim.clock

    def delete(self) -> None:
        """Delete the resource (mappings reading it stay, as in AWS)."""
        self.deleted = True
        self._sim.unregister(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.arn}>"
