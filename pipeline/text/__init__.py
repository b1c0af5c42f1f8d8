"""Text primitives shared by the steps and dedup: per-code-point tables (``chars.py``) and the
optional compiled kernels (``kernels.py``, ``_native.c``) that compute over them."""
