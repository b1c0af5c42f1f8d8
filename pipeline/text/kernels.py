"""The compiled kernels (``pipeline/text/_native.c``), or None. They are optional at install: numpy
computes the same values where they were not built. A module built from another version of
``_native.c`` (typically an older one: a checkout updated without ``make install``) may lack
kernels or compute others, so it counts as not built (``stale``) until it is rebuilt, instead of
failing in the middle of a run."""
from __future__ import annotations

VERSION = 3           # _native.c's KERNELS_VERSION: raise both when a kernel is added or changed


def checked(module):
    """(the module, or None when it is of another version; whether it was)."""
    if module is not None and getattr(module, "VERSION", 0) != VERSION:
        return None, True
    return module, False


try:
    from . import _native as native
except ImportError:                 # pragma: no cover - depends on the install
    native = None
native, stale = checked(native)
