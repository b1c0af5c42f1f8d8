"""Typed configuration, loaded from YAML and validated before any work starts.

Every key of ``configs/default.yaml`` maps to a field below. Validation errors name the key
(``langid.backend``) and say what is allowed, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml


class ConfigError(ValueError):
    """A configuration problem; the message names the offending key."""


def _f(default, *, lo=None, hi=None, doc=""):
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})


def _lf(factory, doc=""):
    return field(default_factory=factory, metadata={"doc": doc})


@dataclass(frozen=True)
class InputConfig:
    paths: tuple[str, ...] = _f((), doc="files, folders or globs to read")
    format: Literal["auto", "txt", "jsonl", "parquet"] = _f("auto")
    id_field: str = _f("id", doc="JSONL/Parquet field holding the document id")
    text_field: str = _f("text", doc="JSONL/Parquet field holding the document text")
    shard_size_mb: float = _f(16.0, lo=0.001, hi=100_000, doc="target input bytes per shard")
    max_doc_chars: int = _f(5_000_000, lo=1_000, doc="longer documents are cut; the rest goes to the ledger")
    max_line_mb: float = _f(256.0, lo=0.001, doc="a longer JSONL line is not parsed; it goes to the ledger")
    max_expansion: float = _f(100.0, lo=1.0, doc="a .gz/.zst file stops being read past this many times "
                                                  "its size (at least 256 MB): decompression bombs")


@dataclass(frozen=True)
class RepairConfig:
    enabled: bool = _f(True)
    ftfy: bool = _f(True, doc="run ftfy on documents the mojibake gate flags")
    legacy_codecs: tuple[str, ...] = _f(
        ("cp1251", "koi8_r", "cp1256", "gbk", "mac_roman"),
        doc="codecs tried for UTF-8 text that was decoded with the wrong single/double-byte codec",
    )
    normalization: Literal["NFC", "NFKC", "none"] = _f("NFC")
    remove_control: bool = _f(True, doc="drop C0/C1 controls (not tab/newline), zero-width and bidi controls")


@dataclass(frozen=True)
class SegmentConfig:
    splitter: Literal["sentencex", "regex"] = _f("sentencex")


@dataclass(frozen=True)
class LangidConfig:
    backend: Literal["cld2", "fasttext", "langdetect"] = _f("cld2")
    confirm_backend: Literal["fasttext", "cld2", "langdetect", "none"] = _f(
        "fasttext", doc="second detector that must agree before a sentence is called foreign")
    langdetect_seed: int = _f(0, doc="langdetect is random unless seeded")
    doc_min_score: float = _f(0.5, lo=0.0, hi=1.0, doc="below this a document's language is 'und'")
    sentence_min_chars: int = _f(30, lo=1, doc="shorter sentences (letters only) are never foreign")
    sentence_min_words: int = _f(4, lo=1, doc="fewer words (not for CJK) are never foreign")
    sentence_min_score: float = _f(0.80, lo=0.0, hi=1.0, doc="confidence needed to call a sentence foreign")
    short_sentence_min_score: float = _f(0.90, lo=0.0, hi=1.0,
                                         doc="shorter sentences (3+ words) need both detectors this sure")
    doc_function_words: bool = _f(True, doc="a document whose function words clearly say one language is "
                                            "confirmed on its first 500 characters instead of read whole")
    function_words: bool = _f(True, doc="a sentence with 2+ function words only its document's language "
                                        "has (twice as many as of any other) is that language: no detector runs")
    foreign_routing: Literal["ledger", "partition"] = _f(
        "ledger", doc="ledger: foreign spans go to the ledger; partition: a row in their own language")


@dataclass(frozen=True)
class TruncatedConfig:
    enabled: bool = _f(True)
    check_abbreviation_end: bool = _f(True, doc="paragraph ending on an abbreviation that needs a continuation")
    check_function_word_end: bool = _f(True, doc="sentence ending on a determiner/preposition/conjunction")
    check_unbalanced: bool = _f(True, doc="last sentence opens a bracket it never closes")
    punctuated_doc_share: float = _f(0.5, lo=0.0, hi=1.0,
                                     doc="a body line without end punctuation is truncated when at least this "
                                         "share of its document's prose paragraphs end in punctuation")


@dataclass(frozen=True)
class BylineConfig:
    enabled: bool = _f(True)
    max_words: int = _f(12, lo=1, doc="bylines longer than this are not considered")


@dataclass(frozen=True)
class FiltersConfig:
    truncated: TruncatedConfig = _lf(TruncatedConfig)
    byline: BylineConfig = _lf(BylineConfig)


@dataclass(frozen=True)
class DedupConfig:
    enabled: bool = _f(True)
    paragraphs: bool = _f(True, doc="exact and near duplicate paragraphs")
    documents: bool = _f(True, doc="exact and near duplicate documents")
    keep: Literal["first", "longest"] = _f("first", doc="which copy of a cluster is kept")
    minhash_backend: Literal["affine32", "rensa", "datasketch", "numpy"] = _f(
        "affine32", doc="affine32: datasketch's signatures from a compiled kernel (numpy where not built)")
    num_perm: int = _f(128, lo=16, hi=1024)
    bands: int = _f(32, lo=1, hi=512, doc="LSH bands; bands*rows must equal num_perm")
    shingle_words: int = _f(3, lo=1, hi=10, doc="word n-gram size (character 5-grams for CJK/Thai)")
    paragraph_threshold: float = _f(0.5, lo=0.0, hi=1.0, doc="estimated Jaccard to call paragraphs near-duplicates")
    document_threshold: float = _f(0.5, lo=0.0, hi=1.0, doc="estimated Jaccard to call documents near-duplicates")
    min_near_words: int = _f(8, lo=1, doc="shorter paragraphs are only deduplicated exactly")
    seed: int = _f(1, doc="MinHash permutation seed (part of the history index's identity)")


@dataclass(frozen=True)
class ExecutorConfig:
    name: Literal["local", "ray"] = _f("local", doc="local process pool, or Ray tasks (extra 'ray')")
    workers: int = _f(0, lo=0, hi=4096, doc="0 = one per core")
    ray_address: str = _f("", doc="address of an existing Ray cluster; empty starts a local one")
    barrier: Literal["auto", "memory", "ranges"] = _f(
        "auto", doc="dedup barrier: in the driver's memory, or by hash ranges on the workers (the driver's memory "
        "grows with the duplicates, not the corpus; same decisions); auto: ranges when memory would not fit")


@dataclass(frozen=True)
class OutputConfig:
    path: str = _f("out")
    state: str = _f("", doc="state folder holding the history index of earlier runs; empty = none")
    compression: Literal["zstd", "snappy", "gzip", "none"] = _f("zstd")
    keep_work: bool = _f(False, doc="keep intermediate shard files after a successful run")


@dataclass(frozen=True)
class Config:
    input: InputConfig = _lf(InputConfig)
    repair: RepairConfig = _lf(RepairConfig)
    segment: SegmentConfig = _lf(SegmentConfig)
    langid: LangidConfig = _lf(LangidConfig)
    filters: FiltersConfig = _lf(FiltersConfig)
    dedup: DedupConfig = _lf(DedupConfig)
    executor: ExecutorConfig = _lf(ExecutorConfig)
    output: OutputConfig = _lf(OutputConfig)

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
    _cross_check(obj, prefix)
    return obj


def _cross_check(obj, prefix):
    if isinstance(obj, DedupConfig) and obj.num_perm % obj.bands:
        raise ConfigError(
            f"config: '{prefix}bands' ({obj.bands}) must divide '{prefix}num_perm' ({obj.num_perm})")


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


__all__ = ["Config", "ConfigError", "load", "from_dict"]
