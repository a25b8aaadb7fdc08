"""What the fuzzers aim at, read from the app's own URL map.

A route added later (a new webhook, a new dashboard form) is fuzzed without
anyone listing it here.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from bot import create_app
from bot.db import dispose_engines

IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str
    """"int", "any" (one of `choices`) or "string"."""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str
    arguments: tuple[Argument, ...]

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"


def _argument(rule: Rule, name: str) -> Argument:
    converter = rule._converters[name]  # the URL map's own record of each variable part
    if isinstance(converter, IntegerConverter):
        return Argument(name, "int")
    if isinstance(converter, AnyConverter):
        return Argument(name, "any", tuple(sorted(converter.items)))
    return Argument(name, "string")


def _rules() -> list[Rule]:
    # Only the URL map is read: the database and Redis of this app are never opened.
    with tempfile.TemporaryDirectory(prefix="fuzz-url-map-") as instance:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": instance,
                "DATABASE_URL": "sqlite://",
                "SECRET_KEY": "url-map",
            }
        )
        dispose_engines(app)
        return list(app.url_map.iter_rules())


_ALL = _rules()


def routes(prefix: str, methods: frozenset[str] | None = None) -> list[Route]:
    """Every (method, rule) under `prefix`, optionally only those `methods`, sorted."""
    found = []
    for rule in _ALL:
        if not rule.rule.startswith(prefix) or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if methods is None or method in methods:
                arguments = tuple(_argument(rule, name) for name in sorted(rule.arguments))
                found.append(Route(method, rule.rule, rule.endpoint, arguments))
    return sorted(found, key=lambda route: route.id)
