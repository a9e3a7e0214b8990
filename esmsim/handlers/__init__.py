"""Functions: loading handlers and invoking them as Lambda does.

``sim.function(name, handler, **properties)`` makes a ``Function``; pollers call
``await fn.invoke(build_event, ...)`` and read the outcome with
``parse_batch_response``. One module per concern:

* ``function``: the ``Function`` resource and the invoke path;
* ``loading``: handler strings and callables, code directories;
* ``context`` / ``environment``: what the handler sees (context object, variables);
* ``duration``: the simulated-duration models;
* ``concurrency``: reserved concurrency, the account pool, throttles;
* ``worker``: where plain handlers run (never on the event loop);
* ``marshal``: the runtime's JSON round trip of responses;
* ``invocation``: the ``Invocation`` record (also the ``InvokeOutcome``);
* ``responses``: ``parse_batch_response`` (spec §2.6);
* ``runtime``: ``handler_rng`` and the current function;
* ``builtin``: ready-made handlers for experiments.
"""

from .concurrency import AccountConcurrency as AccountConcurrency
from .concurrency import account_concurrency as account_concurrency
from .context import LambdaContext as LambdaContext
from .function import Function as Function
from .invocation import Invocation as Invocation
from .invocation import InvokeOutcome as InvokeOutcome
from .loading import HandlerLoadError as HandlerLoadError
from .responses import BatchResponse as BatchResponse
from .responses import parse_batch_response as parse_batch_response
from .runtime import current_function as current_function
from .runtime import handler_rng as handler_rng

__all__ = (
    "AccountConcurrency",
    "BatchResponse",
    "Function",
    "HandlerLoadError",
    "Invocation",
    "InvokeOutcome",
    "LambdaContext",
    "account_concurrency",
    "current_function",
    "handler_rng",
    "parse_batch_response",
)
