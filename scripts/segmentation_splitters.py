"""Sentence splitters in the segmentation scorer's contract, FUNCTION(text, lang) -> sentences
(``../shared/eval/segmentation/score.py --splitter scripts.segmentation_splitters:NAME``).

project    pipeline.split_sentences: the segment step's splitter with its default options
sentencex  plain sentencex.segment(lang, text); a Rust panic gives the text as one sentence
pysbd      pysbd.Segmenter(language=lang, clean=False), English rules for a language it lacks
blingfire  blingfire.text_to_sentences (no language)
"""
from __future__ import annotations

from functools import lru_cache


def project(text: str, lang: str) -> list[str]:
    import pipeline
    return pipeline.split_sentences(text, lang)


def sentencex(text: str, lang: str) -> list[str]:
    import sentencex as sx
    try:
        return list(sx.segment(lang, text))
    except BaseException as e:                  # noqa: BLE001  (Rust panics are BaseExceptions)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return [text]


@lru_cache(maxsize=None)
def _pysbd(lang: str):
    import pysbd
    try:
        return pysbd.Segmenter(language=lang, clean=False)
    except (ValueError, KeyError):
        return pysbd.Segmenter(language="en", clean=False)


def pysbd(text: str, lang: str) -> list[str]:
    return _pysbd(lang).segment(text)


def blingfire(text: str, lang: str) -> list[str]:
    import blingfire as bf
    return bf.text_to_sentences(text).split("\n")


SPLITTERS = {"project": project, "sentencex": sentencex, "pysbd": pysbd, "blingfire": blingfire}
MODULES = {"project": "pipeline", "sentencex": "sentencex", "pysbd": "pysbd", "blingfire": "blingfire"}
