import importlib.metadata as md

import pytest

from hyperofa.errors import IncompatibleInputsError, MissingPathError
from hyperofa.evaluate import embedded_pos as ep


def token(form, lemma, upos, glued=False):
    return {
        "form": form,
        "lemma": lemma,
        "upos": upos,
        "misc": {"SpaceAfter": "No"} if glued else None,
    }


def test_inflectional_groups_join_into_the_surface_word_with_the_last_tag():
    tokens = [
        token("Açık", "açık", "NOUN", glued=True),
        token("la", "_", "VERB", glued=True),
        token("nma", "_", "VERB", glued=True),
        token("yan", "_", "ADJ"),
        token("soru", "soru", "NOUN", glued=True),
        token(".", ".", "PUNCT"),
        token("ve", "ve", "CONJ"),
        token("da", "da", "PRT"),
    ]
    sentence = ep.merge_inflectional_groups(tokens)
    assert sentence.words == ("Açıklanmayan", "soru", ".", "ve", "da")
    assert sentence.tags == (
        "ADJ",
        "NOUN",
        "PUNCT",
        "CCONJ",
        "PART",
    )  # `.` has a lemma: not a group


def test_package_files_name_the_pinned_install():
    with pytest.raises(MissingPathError, match="pip install no-such-dist==1.0"):
        ep.package_files("no-such-dist", "1.0", ["x"])
    with pytest.raises(IncompatibleInputsError, match="pinned to `pip install conllu==0.0.1`"):
        ep.package_files("conllu", "0.0.1", ["x"])


def _installed(dist: str) -> bool:
    try:
        md.distribution(dist)
    except md.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("aksara"), reason="aksara not installed")
def test_real_indonesian_test_set():
    test = ep.indonesian_sentences()
    assert len(test) == 102 and sum(len(s.words) for s in test) == 1434  # multiword tokens split
    assert test[0].words[24:26] == ("karir", "nya")  # from the range line `25-26 karirnya`
    assert {t for s in test for t in s.tags} == set(ep.UPOS_TAGS)


@pytest.mark.slow  # parses 7 MB of CoNLL-U (1–4 s)
@pytest.mark.skipif(
    not (_installed("aksara") and _installed("turkish-treebanks")), reason="POS packages absent"
)
def test_real_turkish_indonesian_pair():
    train, dev, test = ep.turkish_indonesian_pos(
        train_sentences=100, dev_sentences=50, split_seed=0
    )
    assert (len(train), len(dev), len(test)) == (100, 50, 102)
    assert sum(len(s.words) for s in test) == 1434  # syntactic words (multiword tokens split)
    tags = {t for s in train + dev + test for t in s.tags}
    assert tags <= set(ep.UPOS_TAGS) and not tags & set(ep.UD_V1_TO_V2)
    again, _, _ = ep.turkish_indonesian_pos(100, 50, 0)
    assert again == train
