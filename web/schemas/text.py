"""Text fields whose rule depends on what counts as blank, read as the API's
schema reads it.

The schema's patterns are ECMA-262 regular expressions (JSON Schema's dialect),
and a browser's ``String.prototype.trim`` strips the same characters; Python's
``str.strip()`` and pydantic's ``str_strip_whitespace`` strip slightly different
ones (U+001C–U+001F, U+0085, U+FEFF).  So a field that must say something, or
must stay empty, is stripped here of ECMA-262's white space and line
terminators only — what ``\\s`` matches in its pattern — by the model's own
validator, after the length check, as the schema's ``maxLength`` counts (the
models leave pydantic's ``str_strip_whitespace`` off).
"""

from __future__ import annotations

# ECMA-262 WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP, the Zs category) and
# LineTerminator (LF, CR, LS, PS).
BLANKS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Something other than blanks, as a schema's pattern states it; the pattern only
# documents (pydantic's regex engine reads ``\s`` otherwise): the field's
# validator strips with :func:`strip_blanks` and refuses what is left empty.
NOT_BLANK = r"[^\s]"


def strip_blanks(value: str) -> str:
    """``value`` without the blanks at either end."""
    return value.strip(BLANKS)
