"""What a request may carry: a body within MAX_CONTENT_LENGTH, JSON of sane depth,
ids in paths that fit a database integer.

Werkzeug refuses an oversized body only when something reads it, so a view
that never looks at its body (or a check that fails first) would answer as if
nothing were wrong: the declared Content-Length is checked before any view. A
streamed (chunked) body declares no length: Werkzeug reads it up to the limit
and silently stops there, so a form would be parsed from its first MiB and the
rest dropped. Such a body is read here once, up to the limit (the views and the
form parser then read that copy), and one byte beyond it means it was too large.

JSON nested a few thousand levels deep makes the parser raise RecursionError,
which `request.get_json` does not treat as malformed JSON: it would be a 500.
So would `<int:...>` past an INTEGER key's 2**31 - 1, which PostgreSQL refuses to
compare with the key (and past 2**63 SQLite cannot even bind).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_PATH_INTEGER = 2**31 - 1
"""The largest id a primary key holds (INTEGER: PostgreSQL's int4); a larger id in a
path matches no row, and PostgreSQL would refuse to compare it (a 500): 404."""


def refuse_oversized_body() -> None:
    """App `before_request`: 413 for a body longer than MAX_CONTENT_LENGTH."""
    limit = request.max_content_length
    if limit is None:
        return
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            abort(413)
        return
    if "wsgi.input_terminated" not in request.environ:
        # Without it Werkzeug reads no body at all: nothing oversized can get in.
        return
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        abort(413)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with JSON too deeply nested to parse read as malformed (a 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class PathInteger(IntegerConverter):
    """`<int:...>`: a number past what a database integer holds names nothing, a 404.

    Passed on, the SQLite driver cannot bind it (OverflowError, a 500). Refused as
    a mismatch (werkzeug's ValidationError), the rule would be skipped but the same
    path's rules for other methods would still answer 405.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_PATH_INTEGER:
            raise NotFound()
        return number


def refuse_nul_in_path() -> None:
    """App `before_request`: 404 for a path holding a NUL, which no slug or id holds.

    PostgreSQL refuses NUL in any text it is asked to compare (a 500 otherwise).
    """
    if "\x00" in request.path:
        abort(404)


def init_app(app: Flask) -> None:
    """Before any blueprint registers: its rules take the converter of the moment."""
    app.url_map.converters["int"] = PathInteger
    app.json = JSONProvider(app)
    app.before_request(refuse_oversized_body)
    app.before_request(refuse_nul_in_path)
