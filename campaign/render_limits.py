"""Size bounds on every value a template makes: texts, lists, numbers and captured output.

A template can grow a value without writing it: doubling a text in a macro that calls
itself, a list repeated inside a list, ``batch`` padding to a billion items, ``join`` with a
long separator. Checking the final output is too late, the memory is gone by then. So the
sandbox checks each operation that can grow a value *before* it runs: ``+``, ``*``, ``~``,
every filter, the buffers that capture macro and ``{% set %}`` blocks, and each value written
out. The measure is the value's *weight*: characters of a text plus the items of a list or
mapping, counted through nested containers, so ``[[x] * 9999] * 9999`` weighs what printing
it would cost, not the few pointers it takes to build. Over ``MAX_OUTPUT_CHARS`` (or a list
over ``MAX_SEQUENCE`` items) is a ``TemplateLimit``, raised in the template's frame, so the
problem names the template line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from itertools import islice
from typing import Any

from jinja2 import filters, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.utils import _PassArg

from campaign import render_deadline
from campaign.locale_filters import TemplateLimit

MAX_OUTPUT_CHARS = 1_000_000
MAX_SEQUENCE = 10_000
MAX_INT_BITS = 4096


def weight(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
    """The size of a value as written out, counted up to just past `limit` (so it costs at most that)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item) + 1
            stack.extend(item)
        elif isinstance(item, Mapping):
            total += len(item) + 1
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            total += 1
        if total > limit:
            return total
    return total


def check_value(value: Any, what: str = "a value") -> Any:
    """Return `value`, or raise TemplateLimit if it is too large to keep or write out."""
    if isinstance(value, list | tuple) and len(value) > MAX_SEQUENCE:
        raise TemplateLimit(f"{what} would hold more than {MAX_SEQUENCE} items")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"{what} would be a number with more than {MAX_INT_BITS} bits")
    if weight(value) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"{what} would be longer than {MAX_OUTPUT_CHARS} characters")
    return value


def take(items: Iterable[Any], what: str) -> list[Any]:
    """Materialise a lazy sequence (``map``, ``select``, ``batch``...) item by item, within the bounds."""
    found = list(islice(items, MAX_SEQUENCE + 1))
    if len(found) > MAX_SEQUENCE:
        raise TemplateLimit(f"{what} would hold more than {MAX_SEQUENCE} items")
    return check_value(found, what)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``+`` and ``*`` whose result would be over the bounds, before computing it."""
    render_deadline.check()
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(times, int)
                and (len(seq) * times > MAX_SEQUENCE or weight(seq) * max(times, 0) > MAX_OUTPUT_CHARS)
            ):
                raise TemplateLimit(f"repeating a text or list more than {MAX_SEQUENCE} items long")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"multiplying numbers past {MAX_INT_BITS} bits")
    elif operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        if isinstance(left, list | tuple) and len(left) + len(right) > MAX_SEQUENCE:
            raise TemplateLimit(f"adding lists of more than {MAX_SEQUENCE} items")
        if weight(left) + weight(right) > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"adding texts or lists longer than {MAX_OUTPUT_CHARS} characters")


def concat(parts: tuple[Any, ...], join: Callable[[Any], str]) -> str:
    """``a ~ b``: refused before the parts are converted when the text would be over the bound."""
    render_deadline.check()
    if sum(weight(p) for p in parts) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"joining texts with ~ into more than {MAX_OUTPUT_CHARS} characters")
    return join(parts)


def finalize(value: Any) -> Any:
    """Every ``{{ value }}`` passes here before it is turned into text."""
    if isinstance(value, str):
        if len(value) > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"writing a text longer than {MAX_OUTPUT_CHARS} characters")
        return value
    return check_value(value, "the value written")


class Buffer(list[str]):
    """The output captured by a macro, a call, a filter or a set block, bounded as it grows."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def append(self, item: str) -> None:
        self.size += len(item)
        if self.size > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"a macro or block writing more than {MAX_OUTPUT_CHARS} characters")
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        for item in items:
            self.append(item)


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with captured output in a ``Buffer`` and ``~`` through ``concat``.

    Both are compiled inline by Jinja (a plain list, ``str_join``), out of the sandbox's reach,
    so the compiled code is where they can be bounded.
    """

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {join})")


# ---------------------------------------------------------------------------- filters


def _batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
    if not isinstance(linecount, int) or not 0 < linecount <= MAX_SEQUENCE:
        raise TemplateLimit(f"batch() takes a size from 1 to {MAX_SEQUENCE}")
    return _BATCH(value, linecount, fill_with)


def _wordwrap(environment: Any, s: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
    wrapstring = kwargs.get("wrapstring", args[1] if len(args) > 1 else None) or environment.newline_sequence
    text = str(s)
    pieces = min(len(text), len(text) // max(int(width), 1) + len(text.split()) + text.count("\n") + 1)
    if len(text) + pieces * len(str(wrapstring)) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"wordwrap() would make a text longer than {MAX_OUTPUT_CHARS} characters")
    return _WORDWRAP(environment, s, width, *args, **kwargs)


def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = value if isinstance(value, Sized) else take(value, "join()")
    if weight(d) * len(items) + weight(items) > MAX_OUTPUT_CHARS:
        raise TemplateLimit(f"join() would make a text longer than {MAX_OUTPUT_CHARS} characters")
    return _JOIN(eval_ctx, items, d, attribute)


def _sum(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    if not isinstance(start, int | float) or isinstance(start, bool):
        raise TemplateLimit("sum() adds numbers only")
    return _SUM(environment, iterable, attribute, start)


def bounded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose input, when lazy, is taken within the bounds, and whose result is checked."""
    func = _REPLACEMENTS.get(name, func)
    at = 0 if _PassArg.from_obj(func) is None else 1

    @functools.wraps(func)  # keeps Jinja's pass_context / pass_environment marks
    def run(*args: Any, **kwargs: Any) -> Any:
        render_deadline.check()
        if len(args) > at:
            value = args[at]
            if isinstance(value, Iterator):
                args = (*args[:at], take(value, f"the input of {name}()"), *args[at + 1 :])
            elif weight(value) > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"the input of {name}() is longer than {MAX_OUTPUT_CHARS} characters")
        result = func(*args, **kwargs)
        return result if isinstance(result, Iterator) else check_value(result, f"the result of {name}()")

    return run


_BATCH, _WORDWRAP, _JOIN, _SUM = filters.do_batch, filters.do_wordwrap, filters.sync_do_join, filters.sync_do_sum
_wordwrap = functools.wraps(_WORDWRAP)(_wordwrap)  # the same pass_environment mark as Jinja's
_join = functools.wraps(_JOIN)(_join)
_sum = functools.wraps(_SUM)(_sum)
_REPLACEMENTS: dict[str, Callable[..., Any]] = {"batch": _batch, "wordwrap": _wordwrap, "join": _join, "sum": _sum}
