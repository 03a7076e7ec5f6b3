"""NER, POS and Taxi1500 data in their published layouts: PAN-X as XTREME / Glot500 write it and
raw WikiANN, UD release trees and udpos tsv files, Taxi1500's three layouts."""

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
WITHHELD = "1\t_\t_\tPRON\t_\t_\t2\tnsubj\t_\t_\n2\t_\t_\tVERB\t_\t_\t0\troot\t_\t_\n\n"
# XTREME/Glot500 panx preprocessing: prefix stripped, tags kept (Glot500 keeps them in test too)
PANX = "All\tB-ORG\nBlacks\tI-ORG\nMatter\tI-ORG\n\nRome\tB-LOC\n,\tO\nItaly\tB-LOC\n"
RAW = (
    "en:John\tB-PER\nen:lives\tO\nen:in\tO\nen:New\tB-LOC\nen:York\tI-LOC\n\n\nen:http://x.org\tO\n"
)


def write(path: Path, text: str, crlf: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode("utf-8"))
    return path


def test_panx_as_xtreme_and_glot500_write_it(tmp_path):
    write(tmp_path / "train-en.tsv", PANX)
    write(tmp_path / "test-ka.tsv", "თბილისი\tB-LOC\nდედაქალაქია\tO\n", crlf=True)
    write(tmp_path / "test-eng_Latn.tsv", "Tom\tB-PER\n")  # Glot500's iso-converted names
    write(tmp_path / "labels.txt", "B-LOC\nB-ORG\n")
    data = ds.ner_data(tmp_path)
    assert data.languages("test") == ["eng_Latn", "ka"]
    assert data.load("en", "train") == [
        ds.TaggedSentence(("All", "Blacks", "Matter"), ("B-ORG", "I-ORG", "I-ORG")),
        ds.TaggedSentence(("Rome", ",", "Italy"), ("B-LOC", "O", "B-LOC")),
    ]
    assert data.load("ka", "test")[0].words == ("თბილისი", "დედაქალაქია")
    assert data.load("eng", "test")[0].tags == ("B-PER",)  # `eng` finds `eng_Latn`
    # XTREME's panx_preprocess strips a whitespace token (`en:\xa0`) to nothing: kept, empty
    write(tmp_path / "dev-en.tsv", "Rome\tB-LOC\n\tO\n")
    assert ds.ner_data(tmp_path).load("en", "dev")[0].words == ("Rome", "")


def test_raw_wikiann_prefix_is_stripped_per_file(tmp_path):
    write(tmp_path / "train-en.tsv", RAW)
    write(tmp_path / "zh-yue-test", "zh-yue:香港\tB-LOC\n-DOCSTART-\tO\nzh-yue:好\tO\n")
    data = ds.ner_data(tmp_path)
    assert data.load("en", "train") == [
        ds.TaggedSentence(
            ("John", "lives", "in", "New", "York"), ("B-PER", "O", "O", "B-LOC", "I-LOC")
        ),
        ds.TaggedSentence(("http://x.org",), ("O",)),
    ]
    assert data.load("zh-yue", "test") == [
        ds.TaggedSentence(("香港",), ("B-LOC",)),
        ds.TaggedSentence(("好",), ("O",)),
    ]
    write(tmp_path / "test-en.tsv", "http://x.org\tO\nlives\tO\n")  # not prefixed: kept whole
    assert ds.ner_data(tmp_path).load("en", "test")[0].words == ("http://x.org", "lives")


@pytest.mark.parametrize(
    "bad,problem",
    [
        ("John B-PER", "no tag after the token"),
        ("John", "XTREME's preprocessing strips the tags of test files"),
        ("de:John\t", "lang:token<TAB>tag"),
        ("de:John\tO\textra", "lang:token<TAB>tag"),
        ("de:John\tPERSON", "lang:token<TAB>tag"),
        ("John\tB-PER", "lacks the `de:` prefix"),
    ],
)
def test_wikiann_malformed_lines_give_their_number(tmp_path, bad, problem):
    write(tmp_path / "test-de.tsv", f"de:Hans\tB-PER\n\n{bad}\n")
    with pytest.raises(BadFileError, match=problem) as err:
        ds.ner_data(tmp_path).check("de", "test")
    assert err.value.line == 3
    with pytest.raises(MissingPathError, match="test-fr.tsv.*languages found: de"):
        ds.ner_data(tmp_path).check("fr", "test")


def test_two_files_for_one_language_and_split(tmp_path):
    write(tmp_path / "train-en.tsv", PANX)
    write(tmp_path / "en-train", RAW)
    with pytest.raises(BadFileError, match="a second train file of `en`"):
        ds.ner_data(tmp_path)


def test_ud_release_tree_concatenates_treebanks_in_file_order(tmp_path):
    release = tmp_path / "ud-treebanks-v2.11"
    write(release / "UD_English-Tiny" / "en_tiny-ud-test.conllu", CONLLU)
    write(release / "UD_English-Other" / "en_other-ud-test.conllu", CONLLU.split("\n\n")[1])
    write(release / "UD_English-ESL" / "en_esl-ud-test.conllu", WITHHELD)  # text withheld
    write(release / "UD_English-Tiny" / "en_tiny-ud-test.txt", "The cat's toy\n")
    write(release / "UD_English-Tiny" / "README.md", "# Summary\n")
    write(release / "UD_Indonesian-GSD" / "id_gsd-ud-test.conllu", CONLLU, crlf=True)
    data = ds.pos_data(tmp_path)
    assert data.languages("test") == ["en", "id"]
    assert [p.name for p in data.files("en", "test")] == [
        "en_esl-ud-test.conllu",
        "en_other-ud-test.conllu",
        "en_tiny-ud-test.conllu",
    ]
    hi = ds.TaggedSentence(("Hi",), ("INTJ",))
    toy = ds.TaggedSentence(("The", "cat", "'s", "toy"), ("DET", "NOUN", "PART", "NOUN"))
    assert data.load("en", "test") == [hi, toy, hi]  # ESL's sentences have no text: dropped
    assert data.load("id", "test") == [toy, hi]


def test_conllu_fields_and_tag_map(tmp_path):
    path = write(tmp_path / "UD_English-Tiny" / "en_tiny-ud-test.conllu", CONLLU)
    first = ds.read_conllu(path)[0]
    assert first.line == 1 and first.tokens[-1]["misc"] == {"SpaceAfter": "No"}
    assert ds.read_ud_pos(path, {"NOUN": "N"})[0].tags == ("DET", "N", "PART", "N")


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
        ds.pos_data(tmp_path).check("x", "dev")
    assert err.value.line == line and err.value.path == path


def test_treebanks_without_text_fail_the_check(tmp_path):
    write(tmp_path / "UD_French-FTB" / "fr_ftb-ud-test.conllu", WITHHELD * 3)
    with pytest.raises(EmptyInputError, match="fr_ftb-ud-test.conllu"):
        ds.pos_data(tmp_path).check("fr", "test")


def test_udpos_tsv_when_there_is_no_conllu(tmp_path):
    write(tmp_path / "train-en.tsv", "The\tDET\ncat\tNOUN\n\nHi\tINTJ\n")
    write(tmp_path / "test-hin_Deva.tsv", "राम\tPROPN\nआया\tVERB\n")
    data = ds.pos_data(tmp_path)
    assert data.layout.fmt == "udpos" and data.languages("test") == ["hin_Deva"]
    assert data.load("en", "train")[1] == ds.TaggedSentence(("Hi",), ("INTJ",))
    write(tmp_path / "test-mar_Deva.tsv", "राम\nआला\n")  # XTREME's udpos test file: no tags
    with pytest.raises(BadFileError, match="no tag after the token"):
        ds.pos_data(tmp_path).check("mar_Deva", "test")


def test_taxi1500_layouts(tmp_path):
    # released eng_data: no header; OFA's flat test dir; data_preprocess.py's split dirs
    write(
        tmp_path / "eng_data" / "eng_train.tsv",
        "41001001\tFaith\tBelieve the good news .\n41001002\tSin\tThey sinned .",
    )
    write(tmp_path / "prs_test.tsv", "41001001\tGrace\tفیض خدا .\n", crlf=True)
    write(tmp_path / "test" / "amh.tsv", "id\tlabel\tverse\n41001001\tViolence\tጦርነት ሆነ ።\n")
    write(tmp_path / "test" / "kat.tsv", "41001001\tGrace\t\n41001002\tSin\tცოდვა .\n")
    data = ds.taxi1500_data(tmp_path)
    assert data.languages("test") == ["amh", "kat", "prs"]
    assert data.load("eng", "train") == [
        ds.LabelledText("41001001", "Faith", "Believe the good news ."),
        ds.LabelledText("41001002", "Sin", "They sinned ."),
    ]
    assert data.load("prs", "test") == [ds.LabelledText("41001001", "Grace", "فیض خدا .")]
    assert data.load("amh", "test")[0].label == "Violence"  # header skipped
    assert data.load("kat", "test") == [ds.LabelledText("41001002", "Sin", "ცოდვა .")]


@pytest.mark.parametrize(
    "bad,problem",
    [
        ("41001003\tFaith", "id<TAB>label<TAB>verse"),
        ("41001003\tHope\tSome text", "not one of"),
        ("41001003\tSome text\tFaith", "the columns are `id<TAB>label<TAB>verse`"),
    ],
)
def test_taxi1500_malformed_lines_give_their_number(tmp_path, bad, problem):
    write(tmp_path / "eng_data" / "eng_dev.tsv", f"41001001\tFaith\tBelieve .\n{bad}\n")
    with pytest.raises(BadFileError, match=problem) as err:
        ds.taxi1500_data(tmp_path).check("eng", "dev")
    assert err.value.line == 2
    with pytest.raises(MissingPathError, match="a directory holding"):
        ds.taxi1500_data(tmp_path / "nowhere")


def test_empty_and_non_utf8_files(tmp_path):
    write(tmp_path / "train-en.tsv", "\n\n")
    with pytest.raises(EmptyInputError, match="no data"):
        ds.ner_data(tmp_path).load("en", "train")
    (tmp_path / "train-de.tsv").write_bytes(b"de:Hans\tB-PER\nde:\xff\tO\n")
    with pytest.raises(BadFileError, match="not UTF-8") as err:
        ds.ner_data(tmp_path).check("de", "train")
    assert err.value.line == 2


def test_byte_order_mark_and_stray_carriage_returns(tmp_path):
    # a BOM before the first row (Windows editors write one); a CR inside a verse stays in it
    (tmp_path / "eng_dev.tsv").write_bytes(
        "\ufeff41001001\tFaith\tBelieve .\r\n41001002\tSin\tThey\rsinned .\r\n".encode()
    )
    rows = ds.taxi1500_data(tmp_path).load("eng", "dev")
    assert [r.id for r in rows] == ["41001001", "41001002"] and rows[1].text == "They\rsinned ."
