"""The template sandbox: what a message template may see and do, and how its errors are located.

Message files are written by the communications team, not by developers, and the same
templates run in the workers. So a template gets a small, documented context (campaign,
wave, audience, language, highlighted initiatives with their ambitions, a contact with
only the declared personal fields) and nothing else: attributes are read from the
context's mappings only, nothing may be called but macros, the power and string-format
operators are refused and a few filters that can blow up memory are left out. Every render
has a CPU-time budget (``campaign.render_deadline``) and every value it makes a size bound
(``campaign.render_limits``). Every error becomes a ``Problem`` at the message file's own line.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    nodes,
)
from jinja2.runtime import Context, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from campaign.characters import forbidden_character
from campaign.errors import InvalidInput, Problem
from campaign.locale_filters import BABEL_FILTERS, TemplateLimit
from campaign.mime import check_field
from campaign.render_deadline import RenderTimeout, check, deadline
from campaign.render_limits import (
    MAX_OUTPUT_CHARS,
    MAX_SEQUENCE,
    BoundedCodeGenerator,
    Buffer,
    bounded,
    check_binop,
    check_value,
    concat,
    finalize,
)
from campaign.segment_key import SegmentKey
from campaign.template_context import asset_url, campaign_hosts, tag_url, template_context, translated

# The renderer's interface: other features import these from here.
__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_SEQUENCE",
    "PERSONAL_FIELDS",
    "RenderFailed",
    "SegmentKey",
    "Where",
    "asset_url",
    "campaign_hosts",
    "check_template",
    "compiled",
    "render",
    "tag_url",
    "template_context",
    "translated",
]

PERSONAL_FIELDS: tuple[str, ...] = ("first_name", "organisation_name")


def personal_values(fields: Mapping[str, str], fallbacks: tuple[str, ...]) -> list[str]:
    """One person's values for the personal slots, a missing one replaced by its fallback; each
    is checked as one bounded line, the same rule as a subject (raises naming the field)."""
    values = [fields.get(name) or fallback for name, fallback in zip(PERSONAL_FIELDS, fallbacks, strict=True)]
    for name, value in zip(PERSONAL_FIELDS, values, strict=True):
        check_field(f"contact.{name}", value)
    return values


TEMPLATE_NAME = "<template>"
# Filters kept from Jinja's defaults. Left out: attr (reaches for attributes), format (printf
# tricks), center/indent/slice (a large number argument allocates without bound), pprint,
# xmlattr, tojson, urlize, safe (would bypass escaping) and random (previews must be stable).
_KEPT_FILTERS = frozenset(
    {
        *("abs", "round", "int", "float", "sum", "min", "max", "count", "length", "wordcount"),
        *("capitalize", "lower", "upper", "title", "trim", "truncate", "wordwrap", "striptags", "replace"),
        *("default", "d", "escape", "e", "forceescape", "string", "urlencode"),
        *("first", "last", "list", "join", "sort", "reverse", "unique", "batch", "dictsort", "items", "groupby"),
        *("map", "select", "reject", "selectattr", "rejectattr"),
    }
)


class RenderFailed(InvalidInput):
    """A template could not be rendered; the problems name the message file and line."""


# ---------------------------------------------------------------------------- the sandbox


def _checked_output(value: Any) -> Any:
    """Every printed value passes here, so an escape that makes a control character fails at
    the line of its ``{{ }}``, never later inside the layout (see ``campaign.characters``)."""
    value = finalize(value)  # its size first: turning a huge nested list into text is the harm
    reason = forbidden_character(value) if isinstance(value, str) else None
    if reason is not None:
        raise ValueError(f"{reason} (written as an escape?)")
    return value


class WavecastSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, narrowed to reading mappings and calling macros."""

    intercepted_binops = frozenset({"**", "*", "%", "+"})
    code_generator_class = BoundedCodeGenerator
    new_buffer = Buffer  # captured output (macros, set blocks) is bounded as it grows
    bounded_concat = staticmethod(concat)  # and so is ~

    def __init__(self, *, autoescape: bool, loader: BaseLoader | None = None) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            loader=loader,
            keep_trailing_newline=True,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_checked_output,
        )
        self.globals.clear()
        self.filters = {k: v for k, v in self.filters.items() if k in _KEPT_FILTERS}
        self.filters["replace"] = _bounded_replace
        self.filters.update(BABEL_FILTERS)
        self.filters = {name: bounded(name, func) for name, func in self.filters.items()}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, LoopContext) and not attr.startswith("_")

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(obj, Macro | LoopContext):
            return True
        return isinstance(getattr(obj, "__self__", None), LoopContext)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, LoopContext | Undefined):
            return super().getattr(obj, attribute)
        return self.undefined(
            f"{type(obj).__name__} has no field {attribute!r}: templates read only the fields "
            "of the context (campaign, wave, audience, lang, initiatives, ambitions, contact)",
            obj=obj,
            name=attribute,
            exc=SecurityError,
        )

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(__obj, Undefined):
            __obj._fail_with_undefined_error()  # says what was missing, not "not callable"
        check()  # the deadline, also where an asynchronous RenderTimeout was swallowed
        return check_value(super().call(__context, __obj, *args, **kwargs), "a macro's result")

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping) or (isinstance(obj, list | tuple | str) and isinstance(argument, int | slice)):
            try:
                return obj[argument]
            except (LookupError, TypeError):
                return self.undefined(obj=obj, name=argument)
        if isinstance(argument, str):
            return self.getattr(obj, argument)
        return self.undefined(obj=obj, name=argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise TemplateLimit("the power operator (**) is not available in templates")
        if operator == "%" and isinstance(left, str):
            raise TemplateLimit("string formatting with % is not available; use the format_* filters")
        check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


def _bounded_replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    if old == "" or (new and len(text) // max(len(old), 1) * len(new) > MAX_OUTPUT_CHARS):
        raise TemplateLimit("replace() would grow the text without bound")
    return text.replace(old, new) if count is None else text.replace(old, new, count)


# ---------------------------------------------------------------------------- compiling


@cache
def sandbox(autoescape: bool = False) -> WavecastSandbox:
    """The shared environment for message texts (Markdown bodies, subjects, social posts)."""
    return WavecastSandbox(autoescape=autoescape)


@dataclass(frozen=True)
class Compiled:
    """A message text parsed, checked and compiled once: keyed by the text's hash, not by file."""

    template: Template | None
    personal_issues: tuple[tuple[int | None, str], ...]
    impersonal_issues: tuple[tuple[int | None, str], ...]


_COMPILED: dict[str, Compiled] = {}
_COMPILED_MAX = 4096


def compiled(source: str) -> Compiled:
    """The compiled template and the static problems of one message text."""
    key = hashlib.sha256(source.encode()).hexdigest()
    found = _COMPILED.get(key)
    if found is None:
        found = _compile(source)
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = found
    return found


def _compile(source: str) -> Compiled:
    env = sandbox(False)
    try:
        tree = env.parse(source)
        # Most texts never mention these names; skip walking their trees.
        walk = "contact" in source or any(w in source for w in ("include", "import", "extends"))
        personal, impersonal = (_template_issues(tree, True), _template_issues(tree, False)) if walk else ((), ())
        code = env.compile(tree, name=TEMPLATE_NAME, filename=TEMPLATE_NAME)
    except TemplateSyntaxError as exc:
        issue = ((exc.lineno, describe(exc)),)
        return Compiled(None, issue, issue)
    return Compiled(env.template_class.from_code(env, code, env.make_globals(None), None), personal, impersonal)


@dataclass(frozen=True)
class Where:
    """Where a template text sits: its file and the file line of the text's first line."""

    file: str
    line: int
    column: int = 1

    def problem(self, template_line: int | None, message: str) -> Problem:
        line = self.line + max(template_line or 1, 1) - 1
        return Problem(self.file, line, self.column if (template_line or 1) == 1 else 1, message)


def _failure_line(exc: BaseException) -> int | None:
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == TEMPLATE_NAME:
            line = frame.lineno
    return line


def describe(exc: BaseException) -> str:
    """A message for a template failure, without Python internals."""
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"template not allowed: {exc}"
    if isinstance(exc, RecursionError):
        return "template recursion too deep (a macro calls itself?)"
    return f"template: {exc}"


RENDER_ERRORS = (
    *(TemplateError, TypeError, ValueError, ArithmeticError, LookupError, RecursionError),
    *(AttributeError, MemoryError),
)
# Texts that ran out of time once fail at once afterwards: a campaign renders a text for many
# segments, and paying the whole CPU budget for each would make validation take minutes.
_TIMED_OUT: dict[str, tuple[int | None, str]] = {}


def render(source: str, context: Mapping[str, Any], where: Where) -> str:
    """Render one message text, or raise RenderFailed naming the file and line of the fault."""
    template = compiled(source).template
    if template is None:
        raise RenderFailed(check_template(source, where, personal=True))
    if source in _TIMED_OUT:
        raise RenderFailed([where.problem(*_TIMED_OUT[source])])
    try:
        with deadline(f"{where.file}:{where.line}"):
            text = _bounded(cast(Generator[str, None, None], template.generate(dict(context))))
    except RenderFailed:
        raise
    except RENDER_ERRORS as exc:
        found = (_failure_line(exc), describe(exc))
        if isinstance(exc, RenderTimeout):
            if len(_TIMED_OUT) > 256:
                _TIMED_OUT.clear()
            _TIMED_OUT[source] = found
        raise RenderFailed([where.problem(*found)]) from None
    reason = forbidden_character(text)
    if reason is not None:  # whatever way past the check of each printed value
        raise RenderFailed([where.problem(None, reason)])
    return text


def _bounded(chunks: Generator[str, None, None]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            # Thrown into the template where it wrote the chunk, so the problem names that line.
            chunks.throw(TemplateLimit(f"template output longer than {MAX_OUTPUT_CHARS} characters"))
        out.append(chunk)
    return "".join(out)


# ---------------------------------------------------------------------------- static checks


def check_template(source: str, where: Where, *, personal: bool) -> list[Problem]:
    """Refuse what rendering once per segment cannot honour, before anything renders.

    Personal fields are filled in per recipient after rendering, so they may only be
    written bare (``{{ contact.first_name }}``): a filter, test or expression on them would
    act on a placeholder, not on the name. ``personal=False`` (social posts) refuses them.
    """
    found = compiled(source)
    return [
        where.problem(line, message)
        for line, message in (found.personal_issues if personal else found.impersonal_issues)
    ]


def _template_issues(tree: nodes.Template, personal: bool) -> tuple[tuple[int | None, str], ...]:
    found: list[tuple[int | None, str]] = []
    bare: set[int] = set()
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if (
                isinstance(child, nodes.Getattr | nodes.Getitem)
                and isinstance(child.node, nodes.Name)
                and child.node.name == "contact"
            ):
                bare.add(id(child.node))
    for statement in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        found.append((statement.lineno, "templates cannot include, import or extend other templates"))
    for parent, node in _contact_uses(tree):
        if not personal:
            found.append((node.lineno, "social posts are not personal: contact fields are not available"))
            continue
        field = _field_name(parent)
        if field is not None and field not in PERSONAL_FIELDS:
            found.append(
                (node.lineno, f"contact has no field {field!r}; personal fields are {', '.join(PERSONAL_FIELDS)}")
            )
        elif id(node) not in bare or field is None:
            found.append(
                (
                    node.lineno,
                    "write personal fields bare, as {{ contact.first_name }} or {{ contact.organisation_name }}: "
                    "they are filled in per recipient after rendering, "
                    "so filters, tests and expressions cannot use them",
                )
            )
    for capture in tree.find_all((nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)):
        for _parent, name in _contact_uses(capture):
            if id(name) in bare:
                found.append(
                    (
                        name.lineno,
                        "personal fields cannot be used inside a macro, call, filter or set block: "
                        "they are filled in per recipient after rendering",
                    )
                )
    return tuple(found)


def _contact_uses(tree: nodes.Node) -> Iterator[tuple[nodes.Node | None, nodes.Name]]:
    def walk(node: nodes.Node, parent: nodes.Node | None) -> Iterator[tuple[nodes.Node | None, nodes.Name]]:
        if isinstance(node, nodes.Name) and node.name == "contact":
            yield parent, node
        for child in node.iter_child_nodes():
            yield from walk(child, node)

    yield from walk(tree, None)


def _field_name(parent: nodes.Node | None) -> str | None:
    if isinstance(parent, nodes.Getattr):
        return parent.attr
    if isinstance(parent, nodes.Getitem) and isinstance(parent.arg, nodes.Const) and isinstance(parent.arg.value, str):
        return parent.arg.value
    return None
