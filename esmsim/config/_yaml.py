"""YAML with CloudFormation's short-form tags.

``yaml.safe_load`` rejects ``!Ref`` and ``!GetAtt``; this loader turns each
short form into its long form (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B``
-> ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` -> ``{"Fn::Sub": s}``) so the
resolver only ever sees the long forms.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ("load_yaml",)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands ``!Ref``, ``!GetAtt``, ``!Sub`` and friends."""


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct)


def load_yaml(text: str) -> Any:
    """Parse ``text``; CloudFormation tags become their long forms."""
    return yaml.load(text, Loader=_CfnLoader)
