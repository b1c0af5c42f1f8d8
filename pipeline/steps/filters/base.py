"""What every filter shares: a filter is a small class that says, for one paragraph of a
document, which sentences (or the whole paragraph) it removes and by which rule; this base class
does the rest once for all of them: it skips what an earlier step removed, records the removal
with the filter's reason and a ``detail`` naming the rule, and counts each rule's firings as
``filter-<reason>-<rule>`` (for example ``filter-truncated-abbreviation_end``).

A filter module holds its ``Filter`` subclass, registered with ``@FILTERS.add``, its options
(a frozen dataclass with an ``enabled`` field) and its reason. ``docs/architecture.md`` has a
worked example.
"""
from __future__ import annotations

import json
from collections import Counter

from ...errors import ConfigError
from ...model import Document, Paragraph
from ...registry import Reason, option


def rules_off_option():
    """The ``rules_off`` key every filter has: rules of it that are not applied (not ``off``, which
    YAML reads as false)."""
    return option((), doc="rules not to apply, as the ledger names them")


def check_rules_off(off: tuple[str, ...], rules: tuple[str, ...], prefix: str) -> None:
    """Stop at a name in ``rules_off`` that is none of the filter's ``rules`` (a typo would do
    nothing)."""
    unknown = [r for r in off if r not in rules]
    if unknown:
        raise ConfigError(f"config: '{prefix}rules_off' names no rule of this filter: {', '.join(unknown)} "
                          f"(its rules: {', '.join(rules)})")


class Filter:
    name: str            # its key under ``filters:`` in the config
    order: int           # filters run from the lowest; text one removed is not judged by the next
    reason: Reason       # what it removes with (``registry.reason``, stage "filters")
    Config: type         # its options: a frozen dataclass of ``registry.option`` fields, with ``rules_off``
    stage = "filters"

    def __init__(self, cfg):
        self.cfg = cfg
        self.counts: Counter = Counter()
        # What a rule learns of a document while judging it (a document's style, a block found at
        # its first line), for the current batch only: keyed by id(doc), which Python reuses for
        # other objects once the batch is gone, so it is cleared around every call.
        self.batch: dict = {}

    def judge(self, doc: Document, p: Paragraph) -> list[tuple[int | None, str, dict]]:
        """What to remove from paragraph ``p`` of ``doc`` (neither removed yet): a list of
        (sentence index, or None for the whole paragraph; rule name; extra detail)."""
        raise NotImplementedError

    def __call__(self, docs: list[Document]) -> None:
        self.batch = {}
        try:
            self._judge_all(docs)
        finally:
            self.batch = {}

    def _judge_all(self, docs: list[Document]) -> None:
        details: dict[str, str] = {}       # the JSON of a rule without extra detail, made once
        off = frozenset(getattr(self.cfg, "rules_off", ()))     # (a filter without the key applies all its rules)
        for d in docs:
            if d.removed is not None:
                continue
            for p in d.paragraphs:
                if p.removed is not None:
                    continue
                for idx, rule, detail in self.judge(d, p):
                    if rule in off:
                        continue
                    if detail:
                        detail = json.dumps({"rule": rule, **detail}, sort_keys=True, ensure_ascii=False)
                    else:
                        detail = details.get(rule) or details.setdefault(
                            rule, json.dumps({"rule": rule}, sort_keys=True, ensure_ascii=False))
                    if idx is None:
                        p.remove(self.reason, detail)
                    else:
                        s = p.sentences[idx]
                        if s.removed is not None:
                            continue
                        s.remove(self.reason, detail)
                    self.counts[f"filter-{self.reason.name}-{rule}"] += 1
