"""The one registry: what a step declares once, and what the rest of the project derives from it.

* **Options.** A step with options holds a frozen dataclass whose fields are made with
  ``option()`` (default, allowed range, meaning). ``pipeline.config`` gathers these sections into
  the configuration, validates YAML against them, and ``scripts/doc_tables.py`` prints the
  README's configuration table from them.
* **Ledger reasons.** A step declares each reason it removes text with, at module level:
  ``TRUNCATED = reason("truncated", "filters", "a sentence or line cut off before its end")``.
  The ledger's ``stage`` column, the report's legend and the README's reason table come from
  these declarations, and a removal carries the ``Reason`` object itself (``model.Removal``).
* **Filters.** A filter class is registered with ``@FILTERS.add``; ``pipeline.steps.filters``
  imports every module of its folder, so a new filter is one module (its class, its options, its
  reason), one key in ``configs/default.yaml`` and its test. ``docs/architecture.md`` walks
  through an example.

The registries are filled as their modules are imported; ``pipeline.config`` imports every
module that declares something, so after it ``REASONS`` and ``FILTERS`` are complete.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


def option(default, *, lo=None, hi=None, doc: str = ""):
    """A configuration field: its default, its allowed range (numbers) and what it means. Lists
    are given as tuples (the sections are frozen); a nested section as its class."""
    if dataclasses.is_dataclass(default) and isinstance(default, type):
        return dataclasses.field(default_factory=default, metadata={"doc": doc})
    return dataclasses.field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})


@dataclass(frozen=True)
class Reason:
    """Why a span was removed: its name in the ledger's ``reason`` column, the ``stage`` of the
    step that removes with it, and what it means (the report's legend, the README)."""
    name: str
    stage: str
    meaning: str

    def __repr__(self) -> str:
        return f"Reason({self.name!r})"


REASONS: dict[str, Reason] = {}


def reason(name: str, stage: str, meaning: str) -> Reason:
    """Declare a ledger reason; once, in the module of the step that removes text with it."""
    if name in REASONS:
        raise ValueError(f"ledger reason {name!r} is declared twice")
    REASONS[name] = found = Reason(name, stage, meaning)
    return found


class Registry:
    """Classes of one kind by name (their ``name`` attribute), iterated in the order they run:
    by their ``order`` attribute, then by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, type] = {}

    def add(self, cls: type) -> type:
        name = getattr(cls, "name", None)
        if not name or not name.isidentifier():
            raise ValueError(f"{self.kind} {cls.__name__} needs a ``name`` that can be a config key")
        if name in self._items and self._items[name] is not cls:
            raise ValueError(f"two {self.kind}s are named {name!r}: {self._items[name].__name__} and {cls.__name__}")
        self._items[name] = cls
        return cls

    def __iter__(self):
        return iter(sorted(self._items.values(), key=lambda c: (c.order, c.name)))



FILTERS = Registry("filter")
