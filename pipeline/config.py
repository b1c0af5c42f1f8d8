"""The configuration: one section per part of the pipeline, loaded from YAML and validated
before any work starts.

Each section is declared next to the code it configures (``registry.option`` fields: default,
range, meaning): ``input`` in ``io/inputs.py``, ``repair`` and ``segment`` in their steps,
``langid`` in ``steps/langid/detect.py``, ``filters`` derived from the filter modules, ``dedup``
in ``dedup/__init__.py``; ``executor`` and ``output``, the run's own, here. Validation errors
name the key (``langid.backend``) and say what is allowed, so a typo never silently falls back
to a default. Importing this module imports every module that declares a ledger reason, so
``REASONS`` here is the whole vocabulary.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from .dedup import DedupConfig
from .errors import ConfigError
from .io.inputs import InputConfig
from .registry import FILTERS, REASONS, option
from .steps.filters import FiltersConfig
from .steps.langid import LangidConfig
from .steps.repair import RepairConfig
from .steps.segment import SegmentConfig


@dataclass(frozen=True)
class ExecutorConfig:
    name: Literal["local", "ray"] = option("local", doc="local process pool, or Ray tasks (extra 'ray')")
    workers: int = option(0, lo=0, hi=4096, doc="0 = one per core")
    ray_address: str = option("", doc="address of an existing Ray cluster; empty starts a local one")
    barrier: Literal["auto", "memory", "ranges"] = option(
        "auto", doc="dedup barrier: in the driver's memory, or by hash ranges on the workers (same decisions); "
        "auto: ranges when memory would not fit")


@dataclass(frozen=True)
class OutputConfig:
    path: str = option("out")
    state: str = option("", doc="state folder holding the history index of earlier runs; empty = none")
    compression: Literal["zstd", "snappy", "gzip", "none"] = option("zstd")
    keep_work: bool = option(False, doc="keep intermediate shard files after a successful run")


@dataclass(frozen=True)
class Config:
    input: InputConfig = option(InputConfig)
    repair: RepairConfig = option(RepairConfig)
    segment: SegmentConfig = option(SegmentConfig)
    langid: LangidConfig = option(LangidConfig)
    filters: FiltersConfig = option(FiltersConfig)
    dedup: DedupConfig = option(DedupConfig)
    executor: ExecutorConfig = option(ExecutorConfig)
    output: OutputConfig = option(OutputConfig)

    def to_dict(self) -> dict:
        return _to_plain(self)

    def fingerprint(self, exclude_runtime: bool = True) -> str:
        """Hash of everything that changes output bytes (not workers, executor or paths)."""
        d = self.to_dict()
        if exclude_runtime:
            d.pop("executor", None)
            d["output"] = {k: v for k, v in d["output"].items() if k in ("compression",)}
            d["input"] = {k: v for k, v in d["input"].items() if k != "paths"}
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def _to_plain(obj):
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [_to_plain(x) for x in obj]
    return obj


def _check_value(key: str, tp, value, meta):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config: '{key}' must be a mapping, got {type(value).__name__}")
        return _build(tp, value, key + ".")
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"config: '{key}' must be one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple:
        (inner, _ell) = typing.get_args(tp)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"config: '{key}' must be a list, got {type(value).__name__}")
        return tuple(_check_value(f"{key}[{i}]", inner, v, {}) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config: '{key}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config: '{key}' must be an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config: '{key}' must be a number, got {value!r}")
        value = float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config: '{key}' must be a string, got {value!r}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and value < lo:
        raise ConfigError(f"config: '{key}' must be >= {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"config: '{key}' must be <= {hi}, got {value!r}")
    return value


def _build(cls, data: dict, prefix: str = ""):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k in data:
        if k not in fields:
            raise ConfigError(
                f"config: unknown key '{prefix}{k}' (allowed: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            if data[name] is None and not dataclasses.is_dataclass(hints[name]):
                raise ConfigError(f"config: '{prefix}{name}' has no value")
            kwargs[name] = _check_value(prefix + name, hints[name], data[name] if data[name] is not None else {}, f.metadata)
    obj = cls(**kwargs)
    if hasattr(obj, "check"):                 # checks across a section's keys
        obj.check(prefix)
    return obj


def from_dict(data: dict | None) -> Config:
    return _build(Config, data or {})


def load(path: str | Path, overrides: dict | None = None) -> Config:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config: file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"config: {p} is not valid YAML: {e}".splitlines()[0]) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"config: {p} must hold a mapping at the top level")
    data = data or {}
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"config: '{dotted}' cannot be set: '{part}' is not a mapping")
        node[leaf] = value
    return from_dict(data)


__all__ = ["Config", "ConfigError", "FILTERS", "REASONS", "from_dict", "load"]
