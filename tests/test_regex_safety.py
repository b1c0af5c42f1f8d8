"""No regular expression of the pipeline backtracks catastrophically on 1 MB adversarial input."""
import importlib
import pkgutil
import re
import time

import pytest

import pipeline


def _modules():
    """Every module of the package (not ``__main__``, which runs the command)."""
    for info in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def _patterns():
    found = {}
    for mod in _modules():
        for name, value in vars(mod).items():
            if isinstance(value, re.Pattern):
                found[f"{mod.__name__}.{name}"] = value
            elif isinstance(value, (list, tuple, dict)):
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for key, v in items:
                    v = v[1] if isinstance(v, tuple) and len(v) == 2 else v
                    if isinstance(v, re.Pattern):
                        found[f"{mod.__name__}.{name}[{key}]"] = v
    return found


PATTERNS = _patterns()
N = 1_000_000
INPUTS = {
    "spaces": " " * N, "newline-spaces": (" " * 999 + "\n") * (N // 1000), "letters": "a" * N,
    "dots": "a." * (N // 2), "words": "ab " * (N // 3), "mojibake": "Ã" * N, "digits": "1." * (N // 2),
    "cjk": "经" * N, "capitals": "Ab " * (N // 3), "bullets": "• " * (N // 2), "quotes": "«" * N,
}


def test_patterns_were_found():
    assert len(PATTERNS) >= 15


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear_on_adversarial_input(name):
    rx = PATTERNS[name]
    for kind, text in INPUTS.items():
        t0 = time.process_time()
        rx.search(text)
        rx.match(text)
        for _ in zip(range(1000), rx.finditer(text)):
            pass
        rx.sub("", text[: N // 4])
        took = time.process_time() - t0
        assert took < 3.0, f"{name} on {kind}: {took:.1f} s"
