"""Safe YAML loading that remembers where every key and value came from.

PyYAML composes the document into nodes; we walk the nodes ourselves so that we can
refuse duplicate keys and unsafe tags, bound alias expansion (billion laughs), and keep
the line and column of every value for error messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from campaign.characters import FORBIDDEN, forbidden_character
from campaign.errors import Problem
from campaign.files import Refused, read_regular

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
Path_ = tuple[str | int, ...]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Source:
    """Where the values of one file sit: path tuple -> (line, column), both 1-based."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    line_offset: int = 0

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """The position of the value (or key) at path, or of its nearest located parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while True:
            if probe in table:
                line, col = table[probe]
                return line + self.line_offset, col
            if key and probe in self.values:
                line, col = self.values[probe]
                return line + self.line_offset, col
            if not probe:
                return 1 + self.line_offset, 1
            probe = probe[:-1]

    def problem(self, path: Path_, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(self.file, line, col, message, severity)  # type: ignore[arg-type]


# libyaml's parser when PyYAML has it: several times faster, with the same marks. The walker
# below adds the positions, the tag checks and the size limit, whichever parser built the nodes.
# Text with a control character goes to the Python parser, whose error points at the character,
# and so does text libyaml finds a syntax error in.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
SYNTAX = "YAML syntax: "


class _Walker:
    def __init__(self, loader: Any, source: Source) -> None:
        self.loader = loader
        self.source = source
        self.count = 0
        self.problems: list[Problem] = []

    def _at(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _fail(self, node: yaml.Node, message: str) -> None:
        line, col = self._at(node)
        self.problems.append(Problem(self.source.file, line + self.source.line_offset, col, message))

    def walk(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        self.source.values.setdefault(path, self._at(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self._fail(node, f"unsupported YAML tag {node.tag!r}")
                return None
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.walk_key(key_node, path)
                if key is None:
                    continue
                if key in result:
                    self._fail(key_node, f"duplicate key {key!r}")
                    continue
                self.source.keys.setdefault((*path, key), self._at(key_node))
                result[key] = self.walk(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._fail(node, f"unsupported YAML tag {node.tag!r}")
                return None
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            self._fail(node, f"unsupported YAML tag {node.tag!r}")
            return None
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError, AttributeError, KeyError, TypeError) as exc:
            # An explicit tag with a value it cannot hold (`!!timestamp x`, `!!bool maybe`).
            self._fail(node, f"cannot read value {node.value!r} as {node.tag.rsplit(':', 1)[-1]}: {exc!s}")
            return None
        # A double-quoted escape ("\b", "\0") makes what the file itself may not hold.
        reason = forbidden_character(value) if isinstance(value, str) else None
        if reason is not None:
            self._fail(node, f"{reason} (written as an escape)")
            return None
        return value

    def walk_key(self, node: yaml.Node, path: Path_) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            self._fail(node, "a key must be plain text")
            return None
        value = self.walk(node, (*path, "<key>"))
        if isinstance(value, dt.date | bool) or value is None:
            # YAML 1.1 would turn `on:` or `2023-06-12:` into another type; keys stay text.
            return str(node.value)
        return str(value)


class _TooBig(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def parse_yaml(text: str, file: str, *, line_offset: int = 0) -> tuple[Any, Source, list[Problem]]:
    """Parse one YAML document. Returns (data, source map, problems); data is None on failure."""
    fast = _LOADER is not yaml.SafeLoader and not _NON_PRINTABLE.search(text)
    parsed = _parse(text, file, line_offset, _LOADER if fast else yaml.SafeLoader)
    if fast and parsed[2] and parsed[2][0].message.startswith(SYNTAX):
        # libyaml places some syntax errors at the next line; the Python parser says where.
        return _parse(text, file, line_offset, yaml.SafeLoader)
    return parsed


def _parse(text: str, file: str, line_offset: int, loader_class: Any) -> tuple[Any, Source, list[Problem]]:
    source = Source(file=file, line_offset=line_offset)
    try:
        loader = loader_class(text)
    except yaml.YAMLError as exc:
        return None, source, [_reader_problem(exc, text, file, line_offset)]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source, []
        walker = _Walker(loader, source)
        data = walker.walk(node, ())
        return (None if walker.problems else data), source, walker.problems
    except _TooBig as big:
        mark = big.node.start_mark
        return (
            None,
            source,
            [
                Problem(
                    file,
                    mark.line + 1 + line_offset,
                    mark.column + 1,
                    f"document too large: more than {MAX_NODES} values once aliases are expanded",
                )
            ],
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        return None, source, [Problem(file, line + line_offset, col, f"{SYNTAX}{message}")]
    except yaml.YAMLError as exc:
        return None, source, [_reader_problem(exc, text, file, line_offset)]
    except RecursionError:
        return None, source, [Problem(file, 1 + line_offset, 1, "document nested too deeply")]
    finally:
        loader.dispose()


def _reader_problem(exc: yaml.YAMLError, text: str, file: str, line_offset: int) -> Problem:
    """A ReaderError (a control character, say) carries a character position, not a mark."""
    position = getattr(exc, "position", 0) or 0
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    character = getattr(exc, "character", None)
    what = f" (character #x{character:04x})" if isinstance(character, int) else ""
    return Problem(file, line + line_offset, column, f"{SYNTAX}{reason}{what}")


def read_text(path: Path, display: str, limit: int = MAX_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file (a BOM is allowed); refuse a FIFO, a device, binary or huge files with a Problem."""
    try:
        raw = read_regular(path, limit)
    except Refused as exc:
        return None, [Problem(display, 1, 1, str(exc))]
    return decode_text(raw, display)


def decode_text(raw: bytes, display: str) -> tuple[str | None, list[Problem]]:
    """The text of a file's bytes: UTF-8 (a BOM is allowed), no NUL or control characters."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, 1, "not UTF-8 text (binary file or another encoding)")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(display, line, 1, "file contains a NUL byte: not a text file")]
    control = FORBIDDEN.search(text)
    if control is not None:
        before = text[: control.start()]
        line = before.count("\n") + 1
        column = control.start() - (before.rfind("\n") + 1) + 1
        return None, [Problem(display, line, column, str(forbidden_character(control.group())))]
    return text, []
