"""Message bodies: Markdown (rendered by Jinja first) to HTML and to plain text for reading.

Links and images are rewritten on the parsed tokens (UTM tags, click counting, image
addresses) so the HTML and the text part name the same targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from campaign.errors import Problem
from campaign.model import MessageFile

# Raw HTML in a message is shown as text, never passed through: the layout owns the markup.
_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass
class Body:
    """A message body as HTML and as text, with the images it names and its problems."""

    html: str
    text: str
    images: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def source_line(mf: MessageFile, needle: str, fallback: int) -> int:
    for i, line in enumerate(mf.body.split("\n")):
        if needle and needle in line:
            return mf.body_line + i
    return mf.body_line + fallback


def markdown_body(
    mf: MessageFile, source: str, link: Callable[[str], str], asset: Callable[[str], str], measure: Callable[[str], int]
) -> Body:
    tokens = _MD.parse(source)
    body = Body("", "")
    for block in tokens:
        for child in block.children or ():
            if child.type == "link_open":
                child.attrSet("href", link(str(child.attrGet("href"))))
            elif child.type == "image":
                src = str(child.attrGet("src"))
                if not src.startswith(("https://", "http://")):
                    body.images.append(src)
                child.attrSet("src", asset(src))
                if not child.content.strip():
                    line = source_line(mf, f"]({src}", (block.map or [0])[0])
                    body.problems.append(
                        Problem(
                            mf.path,
                            line,
                            1,
                            f"image {src!r} has no alt text: describe it between the brackets, ![like this]({src})",
                        )
                    )
    body.html = _MD.renderer.render(tokens, _MD.options, {})
    body.text = markdown_text(tokens, measure)
    return body


def markdown_text(tokens: list[Token], measure: Any = len) -> str:
    """Markdown as plain text for reading: underlined headings, '-' bullets, link targets in
    brackets after their label. Paragraphs keep the author's line breaks and are not
    re-wrapped: mail clients wrap plain text themselves."""
    blocks: list[tuple[str, bool]] = []
    lists: list[list[Any]] = []
    marker: str | None = None
    quote = 0
    heading = 0
    tight = False
    row: list[str] | None = None
    hang = ""

    def emit(text: str, is_tight: bool) -> None:
        nonlocal marker, hang
        depth = "  " * max(len(lists) - 1, 0)
        if marker is not None:
            first, hang, marker = depth + marker, " " * len(marker), None
        else:
            first = depth + (hang if lists else "")
        rest = depth + (hang if lists else "")
        lines = text.split("\n")
        out = [first + lines[0]] + [rest + line for line in lines[1:]]
        blocks.append(("\n".join(("> " * quote) + line for line in out), is_tight))

    for tok in tokens:
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(tok.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "- "
            lists[-1][1] = number + 1
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "heading_open":
            heading = int(tok.tag[1:])
        elif kind == "paragraph_open":
            tight = tok.hidden
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            emit(" | ".join(row), True)
            row = None
        elif kind == "inline":
            text = _inline_text(tok.children or [])
            if row is not None:
                row.append(text)
            elif heading:
                emit(text + "\n" + ("=" if heading == 1 else "-") * max(measure(text), 3), False)
                heading = 0
            else:
                emit(text, tight)
                tight = False
        elif kind in ("fence", "code_block"):
            emit("\n".join("    " + line for line in tok.content.rstrip("\n").split("\n")), False)
        elif kind == "hr":
            emit("* * *", False)
    out: list[str] = []
    for i, (text, is_tight) in enumerate(blocks):
        if i:
            out.append("\n" if is_tight and blocks[i - 1][1] else "\n\n")
        out.append(text)
    return "".join(out)


def _inline_text(children: list[Token]) -> str:
    out: list[str] = []
    href: list[tuple[str, int]] = []
    for tok in children:
        kind = tok.type
        if kind in ("text", "code_inline"):
            out.append(tok.content)
        elif kind == "softbreak" or kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            href.append((str(tok.attrGet("href")), len(out)))
        elif kind == "link_close" and href:
            target, start = href.pop()
            label = "".join(out[start:])
            plain = target.removeprefix("mailto:")
            if label.strip() and label.strip() != plain:
                out.append(f" ({plain})")
            elif not label.strip():
                out.append(plain)
        elif kind == "image":
            out.append(f"[{tok.content}]")
    return "".join(out)
