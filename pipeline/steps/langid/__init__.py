"""Language ID: the document's language, and the sentences in another one (``detect.py``: the
step, its options and its reason; ``backends.py``: the detectors; ``textscan.py``: one pass over
the text for scripts and function words)."""
from .detect import (FOREIGN_LANGUAGE, DocumentLanguage, LangidConfig, SentenceLanguage, detect_documents,
                     detect_sentences)

__all__ = ["FOREIGN_LANGUAGE", "DocumentLanguage", "LangidConfig", "SentenceLanguage", "detect_documents",
           "detect_sentences"]
