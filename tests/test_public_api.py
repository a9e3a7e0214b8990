"""The public surface: ``__all__`` lists exactly what the package exports."""

from __future__ import annotations

import types

import esmsim


def test_all_lists_every_public_name() -> None:
    """Every public attribute of ``esmsim`` that is not a module is in ``__all__``."""
    public = {
        name
        for name, value in vars(esmsim).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(esmsim.__all__)


def test_every_name_in_all_exists() -> None:
    """``__all__`` names nothing that is missing."""
    for name in esmsim.__all__:
        assert hasattr(esmsim, name), name


def test_errors_carry_aws_codes_and_messages() -> None:
    """AWS-mirroring errors expose boto3's ``response`` shape and AWS's text in ``str()``."""
    exc = esmsim.InvalidParameterValueException("BatchSize must be <= 10000")
    assert str(exc) == "BatchSize must be <= 10000"
    assert exc.response == {
        "Error": {"Code": "InvalidParameterValueException", "Message": "BatchSize must be <= 10000"}
    }
