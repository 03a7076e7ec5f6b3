from pathlib import Path

import pytest

from hyperofa.errors import BadFileError, EmptyInputError, MissingPathError
from hyperofa.evaluate import datasets as ds

CONLLU = """# sent_id = 1
# text = The cat's toy
1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_
2-3\tcat's\t_\t_\t_\t_\t_\t_\t_\t_
2\tcat\tcat\tNOUN\t_\t_\t4\tnmod\t_\t_
3\t's\t's\tPART\t_\t_\t2\tcase\t_\t_
3.1\tgone\tgo\tVERB\t_\t_\t_\t_\t2:dep\t_
4\ttoy\ttoy\tNOUN\t_\t_\t0\troot\t_\tSpaceAfter=No

1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_tatoeba_pairs_are_aligned_by_line(tmp_path):
    write(tmp_path / "tatoeba.deu-eng.deu", "Hallo Welt\nDie Katze\n")
    write(tmp_path / "tatoeba.deu-eng.eng", "Hello world\nThe cat\n")
    write(tmp_path / "tatoeba.fra-eng.fra", "Bonjour\n")
    write(tmp_path / "tatoeba.fra-eng.eng", "Hello\n")
    pairs = ds.load_tatoeba(tmp_path)
    assert pairs == {
        "deu": (["Hallo Welt", "Die Katze"], ["Hello world", "The cat"]),
        "fra": (["Bonjour"], ["Hello"]),
    }
    assert list(ds.load_tatoeba(tmp_path, ["fra"])) == ["fra"]


def test_tatoeba_errors_name_the_layout(tmp_path):
    write(tmp_path / "tatoeba.deu-eng.deu", "Hallo\nWelt\n")
    with pytest.raises(MissingPathError, match=r"tatoeba.deu-eng.eng"):
        ds.load_tatoeba(tmp_path)
    write(tmp_path / "tatoeba.deu-eng.eng", "Hello\n")
    with pytest.raises(BadFileError, match="1 lines but tatoeba.deu-eng.deu has 2"):
        ds.load_tatoeba(tmp_path)
    write(tmp_path / "tatoeba.deu-eng.eng", "Hello\n\n")
    with pytest.raises(BadFileError, match=r"tatoeba.deu-eng.eng:2: empty line") as err:
        ds.load_tatoeba(tmp_path)
    assert err.value.line == 2
    with pytest.raises(MissingPathError, match="tatoeba.xyz-eng.xyz"):
        ds.load_tatoeba(tmp_path, ["xyz"])
    with pytest.raises(EmptyInputError, match="no language files"):
        ds.load_tatoeba(write(tmp_path / "empty" / "README", "").parent)


def test_bible_aligns_by_verse_id_with_english(tmp_path):
    write(
        tmp_path / "eng.txt",
        "# language: eng\n01001001\tIn the beginning\n01001002\tAnd the earth\n"
        "01001003\tAnd God said\n",
    )
    write(
        tmp_path / "deu.txt",
        "# comment\n01001003\tUnd Gott sprach\n01001001\tIm Anfang\n"
        "01001002\t\n40001001\tDas Buch\n",
    )
    pairs = ds.load_bible(tmp_path)
    assert pairs == {
        "deu": (["Im Anfang", "Und Gott sprach"], ["In the beginning", "And God said"])
    }
    assert ds.load_bible(tmp_path, max_sentences=1)["deu"] == (["Im Anfang"], ["In the beginning"])


@pytest.mark.parametrize(
    "line,problem",
    [
        ("01001004 no tab", "verse_id<TAB>text"),
        ("Gen1\ttext", "verse_id<TAB>text"),
        ("01001001\tagain", "appears twice"),
    ],
)
def test_bible_malformed_lines_give_their_number(tmp_path, line, problem):
    write(tmp_path / "eng.txt", "01001001\tIn the beginning\n")
    write(tmp_path / "deu.txt", f"01001001\tIm Anfang\n{line}\n")
    with pytest.raises(BadFileError, match=problem) as err:
        ds.load_bible(tmp_path)
    assert err.value.line == 2 and err.value.path.name == "deu.txt"


def test_wikiann_sentences_and_prefix_stripping(tmp_path):
    write(
        tmp_path / "train-en.tsv",
        "en:John\tB-PER\nen:lives\tO\nen:in\tO\nen:New\tB-LOC\n"
        "en:York\tI-LOC\n\n\nen:http://x.org\tO\n",
    )
    sentences = ds.load_wikiann(tmp_path, "en", "train")
    assert sentences == [
        ds.TaggedSentence(
            ("John", "lives", "in", "New", "York"), ("B-PER", "O", "O", "B-LOC", "I-LOC")
        ),
        ds.TaggedSentence(("http://x.org",), ("O",)),
    ]
    assert set(ds.find_language_files(tmp_path, "wikiann", "train")) == {"en"}


@pytest.mark.parametrize("bad", ["en:John B-PER", "John\tB-PER", "en:John\t", "en:John\tO\textra"])
def test_wikiann_malformed_lines_give_their_number(tmp_path, bad):
    write(tmp_path / "test-de.tsv", f"de:Hans\tB-PER\n\n{bad}\n")
    with pytest.raises(BadFileError, match="lang:token<TAB>tag") as err:
        ds.load_wikiann(tmp_path, "de", "test")
    assert err.value.line == 3
    with pytest.raises(MissingPathError, match="test-fr.tsv"):
        ds.load_wikiann(tmp_path, "fr", "test")


def test_conllu_keeps_syntactic_words_and_upos(tmp_path):
    write(tmp_path / "UD_English-Tiny" / "en_tiny-ud-test.conllu", CONLLU)
    write(tmp_path / "UD_English-Other" / "en_other-ud-test.conllu", CONLLU.split("\n\n")[1])
    hi = ds.TaggedSentence(("Hi",), ("INTJ",))
    toy = ds.TaggedSentence(("The", "cat", "'s", "toy"), ("DET", "NOUN", "PART", "NOUN"))
    assert ds.load_ud(tmp_path, "en", "test") == [hi, toy, hi]  # both treebanks, sorted by path
    first = ds.read_conllu(tmp_path / "UD_English-Tiny" / "en_tiny-ud-test.conllu")[0]
    assert first.line == 1 and first.tokens[-1]["misc"] == {"SpaceAfter": "No"}
    tagged = ds.read_ud_pos(tmp_path / "UD_English-Tiny" / "en_tiny-ud-test.conllu", {"NOUN": "N"})
    assert tagged[0].tags == ("DET", "N", "PART", "N")


@pytest.mark.parametrize(
    "bad,line,problem",
    [
        ("4\ttoy\ttoy\tNOUN\t_\t_\t0\troot\t_", 8, "10 tab-separated fields"),
        ("x\ttoy\ttoy\tNOUN\t_\t_\t0\troot\t_\t_", 8, "not a valid ID"),
        ("4\ttoy\ttoy\t_\t_\t_\t0\troot\t_\t_", 1, "without UPOS"),
    ],
)
def test_conllu_malformed_lines_give_their_number(tmp_path, bad, line, problem):
    path = write(tmp_path / "x_y-ud-dev.conllu", CONLLU.replace(CONLLU.splitlines()[7], bad))
    with pytest.raises(BadFileError, match=problem) as err:
        ds.load_ud(tmp_path, "x", "dev")
    assert err.value.line == line and err.value.path == path


def test_conllu_reads_crlf_files(tmp_path):
    path = tmp_path / "id_gsd-ud-test.conllu"
    path.write_bytes(CONLLU.replace("\n", "\r\n").encode())
    assert ds.read_ud_pos(path)[0].words == ("The", "cat", "'s", "toy")


def test_taxi1500_rows_with_optional_header(tmp_path):
    write(
        tmp_path / "eng_data" / "eng_train.tsv",
        "id\tlabel\tverse\n41001001\tFaith\tBelieve .\n41001002\tSin\tThey sinned .\n",
    )
    write(tmp_path / "fra_Latn_data" / "fra_Latn_test.tsv", "41001001\tGrace\tLa grâce .\n")
    assert ds.load_taxi1500(tmp_path, "eng", "train") == [
        ds.LabelledText("41001001", "Faith", "Believe ."),
        ds.LabelledText("41001002", "Sin", "They sinned ."),
    ]
    assert set(ds.find_language_files(tmp_path, "taxi1500", "test")) == {"fra_Latn"}
    assert ds.load_taxi1500(tmp_path, "fra_Latn", "test")[0].label == "Grace"


@pytest.mark.parametrize(
    "bad,problem",
    [("41001003\tFaith", "id<TAB>label<TAB>text"), ("41001003\tHope\tSome text", "not one of")],
)
def test_taxi1500_malformed_lines_give_their_number(tmp_path, bad, problem):
    write(tmp_path / "eng_data" / "eng_dev.tsv", f"41001001\tFaith\tBelieve .\n{bad}\n")
    with pytest.raises(BadFileError, match=problem) as err:
        ds.load_taxi1500(tmp_path, "eng", "dev")
    assert err.value.line == 2
    with pytest.raises(MissingPathError, match="a directory holding"):
        ds.load_taxi1500(tmp_path / "nowhere", "eng", "dev")


def test_empty_and_non_utf8_files(tmp_path):
    write(tmp_path / "train-en.tsv", "\n\n")
    with pytest.raises(EmptyInputError, match="no data"):
        ds.load_wikiann(tmp_path, "en", "train")
    (tmp_path / "train-de.tsv").write_bytes(b"de:\xff\tO\n")
    with pytest.raises(BadFileError, match="not UTF-8"):
        ds.load_wikiann(tmp_path, "de", "train")
