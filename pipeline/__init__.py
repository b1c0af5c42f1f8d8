"""Multilingual text cleaning and deduplication for model-training corpora.

Run it with ``python -m pipeline run CONFIG`` (``pipeline.cli``) or ``pipeline.run.runner.run``;
``docs/architecture.md`` maps the package. ``split_sentences(text, lang)`` is the segment step's
sentence splitter on one paragraph.
"""
from .text.sentences import split_sentences

__all__ = ["split_sentences", "__version__"]
__version__ = "0.6.0"     # part of every run id: a new version never resumes an older run's work
