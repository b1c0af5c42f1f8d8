"""What the filter tests share: a paragraph judged by one filter, as a user would see it."""
from pipeline.model import Document
from pipeline.steps.segment import SegmentConfig, segment_document


def judge(text, lang, flt):
    """The removals ``flt`` makes in ``text`` (a document of language ``lang``): (text, reason)."""
    d = Document("d", text, "d", (0, 0), "{}", lang=lang)
    segment_document(d, SegmentConfig())
    flt([d])
    return [(p.text if p.removed else p.text[s.start:s.end].strip(), (p.removed or s.removed).reason.name)
            for p in d.paragraphs for s in ([None] if p.removed else p.sentences)
            if (p.removed or s.removed)]
