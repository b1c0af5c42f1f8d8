"""Filters: one module each (its ``Filter`` class, its options, its reason), found here by
importing every module of this folder. ``FiltersConfig`` (the ``filters:`` section of the
config) and the list of filters that run are derived from them."""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from ...registry import FILTERS, option
from .base import Filter

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

FiltersConfig = dataclasses.make_dataclass(
    "FiltersConfig", [(f.name, f.Config, option(f.Config)) for f in FILTERS], frozen=True)
FiltersConfig.__doc__ = "The ``filters:`` section: one key per registered filter, with its options."
FiltersConfig.__module__ = __name__


def build(cfg: FiltersConfig) -> list[Filter]:
    """The enabled filters, in the order they run."""
    return [f(getattr(cfg, f.name)) for f in FILTERS if getattr(cfg, f.name).enabled]


__all__ = ["Filter", "FiltersConfig", "build"]
