"""Reading content files into raw records that remember their line numbers.

Every problem becomes a `ContentError` appended to a list; nothing here raises on
bad input, so a clerk sees every mistake of a file at once.
"""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml

from bot.content.records import ContentError
from bot.spreadsheet import unguard

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_INTEGER = re.compile(r"-?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")


class Message(str):
    """A problem's English text (what the CLI prints) that also keeps its catalog key
    and parameters, so the dashboard can show it in the staff's language. No parameter
    may be named `key` or `lang`: `bot.i18n.t` takes those."""

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, english: str, /, **params: object) -> "Message":
        text = super().__new__(cls, english.format(**params))
        text.key, text.params = key, params
        return text


def _m(name: str, english: str, /, **params: object) -> Message:
    """A problem of the content rules; its French text is in the dashboard_content catalog."""
    return Message(f"dashboard.content.check.{name}", english, **params)


@dataclass
class RawRecord:
    """One CSV row or YAML mapping: field -> (value, line), plus YAML nodes for nesting."""

    line: int
    values: dict[str, tuple[object, int]]
    nodes: dict[str, yaml.Node] = field(default_factory=dict)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so every date is checked the same way."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_text(path: Path, label: str, errors: list[ContentError]) -> str | None:
    """The file decoded as UTF-8 (a BOM is dropped), or None after recording why not."""
    if not path.is_file():
        errors.append(ContentError(label, None, None, _m("file_missing", "file is missing")))
        return None
    return decode_text(path.read_bytes(), label, errors)


def decode_text(data: bytes, label: str, errors: list[ContentError]) -> str | None:
    """`data` decoded as UTF-8 (a BOM is dropped), or None after recording why not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = _m("not_utf8", "file is not UTF-8 text; save it as « CSV UTF-8 » or « UTF-8 »")
        errors.append(ContentError(label, line, None, message))
        return None


def read_csv(
    path: Path, label: str, columns: tuple[str, ...], errors: list[ContentError]
) -> list[RawRecord] | None:
    """Rows with stripped text values; None when the file or its header is unusable."""
    text = read_text(path, label, errors)
    return None if text is None else parse_csv(text, label, columns, errors)


def parse_csv(
    text: str, label: str, columns: tuple[str, ...], errors: list[ContentError]
) -> list[RawRecord] | None:
    """The rows of CSV `text` (an uploaded file, say); None when its header is unusable."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[RawRecord] = []
    header: list[str] | None = None
    try:
        next_line = 1
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                if not _header_ok(header, columns, label, errors):
                    return None
                continue
            if len(cells) != len(header):
                message = _m(
                    "value_count",
                    "expected {expected} values, got {got}",
                    expected=len(header),
                    got=len(cells),
                )
                errors.append(ContentError(label, line, None, message))
                continue
            values = {
                name: (unguard(cell.strip()), line)
                for name, cell in zip(header, cells, strict=True)
            }
            rows.append(RawRecord(line, values))
    except csv.Error as exc:
        message = _m("malformed_csv", "malformed CSV: {problem}", problem=str(exc))
        errors.append(ContentError(label, reader.line_num, None, message))
        return None
    if header is None:
        errors.append(ContentError(label, 1, None, _m("header_missing", "header row is missing")))
        return None
    return rows


def _header_ok(
    header: list[str], columns: tuple[str, ...], label: str, errors: list[ContentError]
) -> bool:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(ContentError(label, 1, name, _m("duplicate_column", "duplicate column")))
        elif name not in columns:
            message = _m(
                "unknown_column",
                "unknown column; the columns are: {columns}",
                columns=", ".join(columns),
            )
            errors.append(ContentError(label, 1, name, message))
        seen.add(name)
    missing = [name for name in columns if name not in seen]
    for name in missing:
        message = _m("missing_column", "required column is missing")
        errors.append(ContentError(label, 1, name, message))
    return not missing and len(seen) == len(header)


def read_yaml(path: Path, label: str, errors: list[ContentError]) -> yaml.Node | None:
    """The document's root node (None for an empty file or after recording an error)."""
    text = read_text(path, label, errors)
    if text is None:
        return None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = _m("malformed_yaml", "malformed YAML: {problem}", problem=exc.problem)
        errors.append(ContentError(label, line, None, message))
    except yaml.YAMLError as exc:
        message = _m("malformed_yaml", "malformed YAML: {problem}", problem=str(exc))
        errors.append(ContentError(label, None, None, message))
    return None


def yaml_record(
    node: yaml.Node, label: str, allowed: tuple[str, ...], errors: list[ContentError]
) -> RawRecord | None:
    """A mapping node as a raw record (None if not a mapping); bad keys are reported."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        message = _m("expected_mapping", "expected a mapping of field: value")
        errors.append(ContentError(label, line, None, message))
        return None
    record = RawRecord(line, {})
    for key_node, value_node in node.value:
        key, key_line = key_node.value, key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or key not in allowed:
            message = _m(
                "unknown_field",
                "unknown field; the fields are: {fields}",
                fields=", ".join(allowed),
            )
            errors.append(ContentError(label, key_line, str(key), message))
        elif key in record.values:
            errors.append(
                ContentError(label, key_line, key, _m("field_twice", "field given twice"))
            )
        else:
            try:
                value = _Loader("").construct_object(value_node, deep=True)
            except yaml.YAMLError as exc:
                message = _m("unreadable", "unreadable value: {problem}", problem=str(exc))
                errors.append(ContentError(label, key_line, key, message))
                continue
            record.values[key] = (value, value_node.start_mark.line + 1)
            record.nodes[key] = value_node
    return record


def yaml_items(node: yaml.Node | None, label: str, errors: list[ContentError]) -> list[yaml.Node]:
    """The items of a sequence node; an empty file or empty value is an empty list."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return []
    if not isinstance(node, yaml.SequenceNode):
        message = _m("expected_list", "expected a list")
        errors.append(ContentError(label, node.start_mark.line + 1, None, message))
        return []
    return list(node.value)


class FieldReader:
    """Typed access to one raw record; each bad field is recorded and `ok` turns False."""

    def __init__(self, label: str, record: RawRecord, errors: list[ContentError]) -> None:
        self.label, self.record, self.errors = label, record, errors
        self.ok = True

    def error(self, name: str | None, message: str, line: int | None = None) -> None:
        self.ok = False
        self.errors.append(ContentError(self.label, line or self.record.line, name, message))

    def line(self, name: str) -> int:
        return self.record.values.get(name, (None, self.record.line))[1]

    def _raw(self, name: str, required: bool) -> object | None:
        value = self.record.values.get(name, (None, 0))[0]
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(name, _m("required", "is required"))
            return None
        return value.strip() if isinstance(value, str) else value

    def _convert(
        self,
        name: str,
        required: bool,
        convert: Callable[[object], T | None],
        what: str,
        expected: str,
        **params: object,
    ) -> T | None:
        """`expected` is English ("a date like ...") for the message `bad_<what>`."""
        raw = self._raw(name, required)
        if raw is None:
            return None
        value = convert(raw)
        if value is None:
            message = _m(f"bad_{what}", f"must be {expected}, got {{raw!r}}", raw=raw, **params)
            self.error(name, message, self.line(name))
        return value

    def text(self, name: str, required: bool = True) -> str | None:
        return self._convert(name, required, _to_text, "text", "text")

    def integer(self, name: str, minimum: int, maximum: int | None = None) -> int | None:
        value = self._convert(name, True, _to_int, "integer", "a whole number, digits only")
        if value is None:
            return None
        if value < minimum or (maximum is not None and value > maximum):
            if maximum is None:
                message = _m(
                    "at_least",
                    "must be at least {minimum}, got {value}",
                    minimum=minimum,
                    value=value,
                )
            else:
                message = _m(
                    "between",
                    "must be between {minimum} and {maximum}, got {value}",
                    minimum=minimum,
                    maximum=maximum,
                    value=value,
                )
            self.error(name, message, self.line(name))
            return None
        return value

    def date(self, name: str) -> date | None:
        return self._convert(name, True, _to_date, "date", "a date like 2025-03-31")

    def local_datetime(self, name: str, zone: tzinfo, required: bool = True) -> datetime | None:
        value = self._convert(
            name,
            required,
            _to_local_datetime,
            "datetime",
            "a local date and time like 2026-12-03 09:00",
        )
        return value.replace(tzinfo=zone).astimezone(UTC) if value else None

    def choice(self, name: str, enum: type[E], required: bool = True) -> E | None:
        allowed = ", ".join(member.value for member in enum)
        convert = lambda raw: _to_enum(raw, enum)  # noqa: E731
        return self._convert(name, required, convert, "choice", "one of {allowed}", allowed=allowed)

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        """A required boolean, or an optional one that falls back to `default`."""
        value = self._convert(name, default is None, _to_bool, "boolean", "true or false")
        return default if self._raw(name, required=False) is None else value

    def texts(self, name: str) -> tuple[str, ...]:
        raw = self._raw(name, required=False)
        if raw is None:
            return ()
        items = [_to_text(item) for item in raw] if isinstance(raw, list) else [None]
        if any(item is None or not item.strip() for item in items):
            self.error(name, _m("text_list", "must be a list of texts"), self.line(name))
            return ()
        return tuple(item.strip() for item in items if item)


def _to_text(raw: object) -> str | None:
    if isinstance(raw, bool):
        return None
    return str(raw) if isinstance(raw, str | int) else None


def _to_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    return int(raw) if isinstance(raw, str) and _INTEGER.fullmatch(raw) else None


def _to_date(raw: object) -> date | None:
    if not isinstance(raw, str) or not _DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _to_local_datetime(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not _LOCAL_DATETIME.fullmatch(raw):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _to_enum(raw: object, enum: type[E]) -> E | None:
    try:
        return enum(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _to_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    return {"true": True, "false": False}.get(raw.lower()) if isinstance(raw, str) else None
