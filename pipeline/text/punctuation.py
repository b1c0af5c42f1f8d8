"""The punctuation the sentence splitter (``sentences.py``) and the line joiner (``lines.py``)
both read: one list, so a mark that ends a sentence inside a line also ends a line."""

# End punctuation followed by whitespace when it ends a sentence.
STOPS = ".!?…‼⁇⁈⁉؟۔।॥։።፧"
# Stops that need no space after them (CJK, Ethiopic, Burmese).
FULLWIDTH_STOPS = "。！？｡．።፧။"
# Closing quotes include “ and ‘, which close German and Slovak quotations („So.“).
CLOSERS = "\"'”’“‘»›)]}」』）】〕〉》"
OPENERS = "\"'“‘„‚«‹([{「『（【〔〈《¿¡"
