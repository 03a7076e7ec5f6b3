"""UDHRCorpus: train / held-out split by article, ISO codes, English pairs, named errors."""

import pytest

from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.udhr import Paragraph
from hyperofa.errors import EmptyInputError


def _corpus():
    ps = []
    for code, lang in (("eng", "eng"), ("xyz_1", "xyz"), ("abc", "abc")):
        for art, n in ((1, 2), (2, 1), (3, 2)):
            if code == "abc" and art == 3:
                n = 1  # not parallel in article 3
            ps += [Paragraph(lang, code, art, i, f"{code} a{art} p{i}") for i in range(n)]
    return UDHRCorpus(ps, heldout_articles=[2, 3])


def test_train_heldout_split_and_iso_codes():
    c = _corpus()
    assert c.texts(["xyz"], "train")["xyz"] == ["xyz_1 a1 p0", "xyz_1 a1 p1"]
    assert c.texts(["xyz_1"], "heldout")["xyz_1"] == ["xyz_1 a2 p0", "xyz_1 a3 p0", "xyz_1 a3 p1"]


def test_heldout_pairs_align_with_english_only_where_parallel():
    pairs = _corpus().heldout_pairs(["xyz", "abc"])
    assert pairs["xyz"] == (
        ["xyz_1 a2 p0", "xyz_1 a3 p0", "xyz_1 a3 p1"],
        ["eng a2 p0", "eng a3 p0", "eng a3 p1"],
    )
    assert pairs["abc"] == (["abc a2 p0"], ["eng a2 p0"])


def test_language_without_text_is_a_named_error():
    with pytest.raises(EmptyInputError, match=r"langset.languages.*\['qqq'\]"):
        _corpus().check(["xyz", "qqq"], "langset.languages")
