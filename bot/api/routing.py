"""`commune_route`: an API operation on one commune, with its capability enforced.

The capability given is both the one the OpenAPI document states and the one
checked, so the two cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from bot.api.openapi import api_route
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import load_commune

F = TypeVar("F", bound=Callable[..., Any])


def commune_route(
    rule: str, method: str, *, capability: Capability, **documented: Any
) -> Callable[[F], F]:
    """`rule` starts with `/communes/<commune>`; the view gets the Commune row as `commune`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, commune: str, **kwargs: Any) -> Any:
            return view(*args, commune=load_commune(commune, capability), **kwargs)

        api_route(rule, method, capability=capability, **documented)(wrapped)
        return wrapped  # type: ignore[return-value]

    return decorate
