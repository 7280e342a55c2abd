"""Spreadsheet formula injection: cells that a spreadsheet would run as a formula are neutralised.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (and, as OWASP advises, a tab or carriage
return) is prefixed with a single quote on export, so a spreadsheet shows it as text. The
importer takes that one quote off again, so an exported file imports back unchanged.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    return "'" + cell if cell.startswith(TRIGGERS) else cell


def restore(cell: str) -> str:
    """Undo ``neutralise``: drop the quote we put before a formula trigger."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(TRIGGERS) else cell
