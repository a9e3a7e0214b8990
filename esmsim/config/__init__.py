"""Reading esmsim config files: CloudFormation-style YAML plus a Simulation section.

``load_config(path)`` checks a file statically and returns a ``RunConfig``
(``load_document(path, document)`` does the same for a document already parsed
and edited in memory, as if it were the file at ``path``);
``cfg.build(sim)`` creates its resources and producers in a ``Simulation`` and
returns a ``BuiltRun``. Both raise ``ConfigError`` listing every problem with
its path. ``check_config(path)`` returns ``(problems, warnings)`` without
raising (what ``esmsim validate`` prints).
"""

from ._build import BuiltRun as BuiltRun
from ._build import TableWriter as TableWriter
from ._durations import parse_duration as parse_duration
from ._loader import ConfigError as ConfigError
from ._loader import RunConfig as RunConfig
from ._loader import check_config as check_config
from ._loader import load_config as load_config
from ._loader import load_document as load_document

__all__ = (
    "BuiltRun",
    "ConfigError",
    "RunConfig",
    "TableWriter",
    "check_config",
    "load_config",
    "load_document",
    "parse_duration",
)
