"""Tokens, shingles and exact hashes of normalised text, in several scripts."""
import numpy as np

from pipeline.dedup.tokens import shingle_hashes, tokenize
from tests.support import exact_hash, exact_of, tokens


def test_shingles_are_token_ngrams_hashed_by_content():
    toks = tokenize(["The council said", "a b c d", "the COUNCIL, said!", "x", "", "--"])
    assert list(toks.ntok) == [3, 4, 3, 1, 0, 0]
    flat, offsets = shingle_hashes(toks, 3)
    assert list(np.diff(offsets.astype(np.int64))) == [1, 2, 1, 1, 0, 0]
    assert flat[0] == flat[3] and flat[1] != flat[2]      # same normalised tokens, same hash
    again, _ = shingle_hashes(tokenize(["a b c d"]), 3)
    assert list(again) == list(flat[1:3])                 # independent of position in the batch
    swapped, _ = shingle_hashes(tokenize(["said council the"]), 3)
    assert swapped[0] != flat[0]                          # order matters

def test_normalised_exact_hash():
    assert exact_hash("The U.S. says, “no”!") == exact_hash("the us says no")
    assert exact_hash("Der Rhein") != exact_hash("Der Main")
    assert exact_hash("ab c") == exact_hash("a bc")       # only word characters count
    toks = tokenize(["Der Rhein.", "Der Main!"])
    assert exact_of(toks, 0, 2) == exact_hash("derrheindermain")   # joined texts
    toks = tokenize(["Der Rhein.", "", "Москва — столица.", "東京は大きい", "!!", "Der Main!"])
    lo, hi = np.array([0, 0, 1, 2, 3, 4, 5, 1]), np.array([1, 6, 2, 3, 4, 5, 6, 1])
    assert toks.exact_many(lo, hi).tolist() == [exact_of(toks, a, b) for a, b in zip(lo, hi)]
    assert toks.exact_many(lo[:0], hi[:0]).dtype == np.uint64

def test_tokens_in_several_scripts():
    norm, toks, cjk = tokens("经过一年的改造，市中心公园于周六重新向市民开放。")
    assert cjk and toks[:5] == list("经过一年的") and norm == "".join(toks)
    assert tokens("The U.S. says, no!") == ("theussaysno", ["the", "u", "s", "says", "no"], False)
    # combining marks stay inside their word (Devanagari vowel signs, Arabic harakat)
    assert tokens("हिन्दी भाषा")[1] == ["हिन्दी", "भाषा"]
    assert tokens("Привет, МИР")[1] == ["привет", "мир"]
    assert tokens("مَرْحَبًا بِكُم")[1] == ["مَرْحَبًا", "بِكُم"]
