"""A cheap first look for rules that need one of a few fixed strings ("ewsletter", "Ctrl+Enter",
"版权") before any expression runs.

``any_of(*strings)`` returns a function ``text -> bool`` written out as ``"a" in t or "b" in t or
...``: CPython's ``in`` finds a string fast, and written out it costs about half of
``any(map(text.__contains__, strings))`` (no iterator, no call per string); an expression with
many branches costs more, as it stops at every letter that starts one of them. Strings outside
ASCII are not looked for in an ASCII text (``str.isascii`` is free: CPython stores it).
"""
from __future__ import annotations

from typing import Callable


def any_of(*strings: str) -> Callable[[str], bool]:
    """A function telling whether a text contains at least one of ``strings``."""
    if not strings or any(type(s) is not str or not s for s in strings):
        raise ValueError("any_of needs one or more non-empty strings")
    ascii_ = [repr(s) for s in strings if s.isascii()]
    other = [repr(s) for s in strings if not s.isascii()]
    expr = " or ".join(f"{s} in t" for s in ascii_) or "False"
    if other:
        expr = f"({expr}) or (not t.isascii() and ({' or '.join(f'{s} in t' for s in other)}))"
    # the strings are the caller's constants, written as literals with repr(): nothing else is run
    fn = eval(f"lambda t: {expr}", {"__builtins__": {}})
    fn.__doc__ = f"Does the text contain one of {strings!r}?"
    return fn
