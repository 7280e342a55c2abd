"""Characters no campaign text may hold, however it was written.

The loader refuses control characters typed into a file, but a YAML escape (``"\\b"``) or a
Jinja string literal (``{{ '\\x0c' }}``) makes the same characters out of plain ASCII. They
have no place in a message, and the newsletter layout is XML (MJML), which cannot hold them
at all: left unchecked they surface as a parse error in the layout, far from the line that
wrote them. So every decoded value and every rendered text is checked against one set.
"""

from __future__ import annotations

import re

# XML 1.0 forbids the C0 controls other than tab, newline and carriage return, the surrogates
# and U+FFFE/U+FFFF; DEL is refused as well, as the loader refuses it in a file.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def forbidden_character(text: str) -> str | None:
    """Why ``text`` cannot be campaign text (naming its first bad character), or None."""
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "control character" if code < 0x80 else "non-character"
    return f"{kind} U+{code:04X} is not allowed in text"
