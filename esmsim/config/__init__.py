"""Reading esmsim config files: CloudFormation-style YAML plus a Simulation section."""

from ._durations import parse_duration as parse_duration
from ._loader import ConfigError as ConfigError
from ._loader import RunConfig as RunConfig
from ._loader import load_config as load_config

__all__ = ("ConfigError", "RunConfig", "load_config", "parse_duration")
