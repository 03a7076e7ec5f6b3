"""Corpora read in batches: every layout, the per-language cap, the language filter, the split of
lines, the per-language Arrow files and named errors."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyperofa.corpus import streams
from hyperofa.corpus.collect import collect_texts
from hyperofa.corpus.streams import line_batches, text_batches
from hyperofa.corpus.texts import clean_texts, load_texts, select_texts
from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError

datasets = pytest.importorskip("datasets")


def gathered(source, **kwargs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lang, texts in text_batches(source, batch_size=2, **kwargs):
        out.setdefault(lang, []).extend(texts)
    return out


def test_lines_split_as_read_text_splitlines_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "_CHUNK", 3)
    text = "one\r\ntwo\rthree\u2028four\x85\n\nfive\x0bsix  \n  seven"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "b.txt").write_text("x\n", encoding="utf-8")
    got = [t for batch in line_batches([tmp_path / "a.txt", tmp_path / "b.txt"], 4) for t in batch]
    want = (tmp_path / "a.txt").read_text(encoding="utf-8").splitlines() + ["x"]
    assert got == want


def test_a_txt_dir_a_mapping_and_a_table_give_what_load_texts_gives(tmp_path):
    (tmp_path / "aaa.txt").write_text("one\n\n  two  \nthree\n")
    (tmp_path / "bbb.txt").write_text("")
    assert gathered(tmp_path) == {"aaa": ["one", "", "  two  ", "three"], "bbb": []}
    assert gathered(tmp_path, cap=2) == {"aaa": ["one", ""], "bbb": []}
    assert gathered({"x": ["1", "2", "3"], "y": ["4"]}, cap=2, languages={"x"}) == {"x": ["1", "2"]}
    table = datasets.Dataset.from_dict(
        {"text": list("abcdefg"), "lang": ["p", "q", "q", "p", "p", "q", "p"]}
    )
    assert gathered(table) == load_texts(table)
    table.save_to_disk(tmp_path / "saved", num_shards=2)
    assert gathered(tmp_path / "saved", cap=2) == {"p": ["a", "d"], "q": ["b", "c"]}
    assert gathered(tmp_path / "saved", languages={"q"}) == {"q": ["b", "c", "f"]}


def glot500(root, subsets: dict[str, list[str]]) -> None:
    """Subsets in the layouts the hub has held: save_to_disk shards under train/ (with and
    without a dataset_dict.json above), and parquet shards under train/."""
    for i, (name, texts) in enumerate(subsets.items()):
        table = datasets.Dataset.from_dict({"text": texts, "source": ["s"] * len(texts)})
        if i % 3 == 0:
            table.save_to_disk(root / name / "train", num_shards=min(2, len(texts)))
        elif i % 3 == 1:
            datasets.DatasetDict({"train": table}).save_to_disk(root / name)
        else:
            (root / name / "train").mkdir(parents=True)
            half = len(texts) // 2
            pq.write_table(pa.table({"text": texts[:half]}), root / name / "train" / "0000.parquet")
            pq.write_table(pa.table({"text": texts[half:]}), root / name / "train" / "0001.parquet")


def test_glot500_subsets_are_languages_capped_at_their_first_texts(tmp_path):
    subsets = {
        "eng_Latn": [f"e{i}" for i in range(9)],
        "kab_Latn": ["k0", "k1"],
        "jpn_Jpan": [f"j{i}" for i in range(7)],
        "dtp_Latn": ["d0", " ", "d2"],
    }
    glot500(tmp_path, subsets)
    assert gathered(tmp_path) == subsets
    capped = gathered(tmp_path, cap=5, languages={"eng_Latn", "jpn_Jpan", "dtp_Latn"})
    assert capped == {k: v[:5] for k, v in subsets.items() if k != "kab_Latn"}


def test_the_cap_stops_reading_a_subset(tmp_path, monkeypatch):
    glot500(tmp_path, {"eng_Latn": [f"e{i}" for i in range(50)]})
    read = []
    original = streams.subset_batches

    def counting(subset, batch_size=streams.BATCH):
        for batch in original(subset, batch_size):
            read.append(len(batch))
            yield batch

    monkeypatch.setattr(streams, "subset_batches", counting)
    assert gathered(tmp_path, cap=3) == {"eng_Latn": ["e0", "e1", "e2"]}
    assert sum(read) == 4  # two batches of 2 texts, not 50 texts


def test_collect_writes_cleaned_texts_per_language(tmp_path):
    texts = {"aaa": [" x ", "", "y", "z"], "bbb": ["  "], "ccc": ["w"]}
    out = collect_texts(texts, tmp_path / "out", cap=3, languages=["aaa", "bbb", "zzz"])
    want = clean_texts(select_texts(texts, 3, ["aaa", "bbb", "zzz"]))
    assert out.counts == {lang: len(ts) for lang, ts in want.items()}
    for lang, path in out.files.items():
        assert datasets.Dataset.from_file(str(path))["text"] == want[lang]


def test_layout_errors_are_named(tmp_path):
    with pytest.raises(MissingPathError, match="pre-training text"):
        gathered(tmp_path / "absent")
    with pytest.raises(BadFileError, match="holds no text"):
        gathered(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(BadFileError, match="no text found"):
        gathered(tmp_path)
    datasets.Dataset.from_dict({"text": ["x"]}).save_to_disk(tmp_path / "nolang")
    with pytest.raises(IncompatibleInputsError, match="lang"):
        gathered(tmp_path / "nolang")
    glot500(tmp_path / "g", {"abc_Latn": ["x"], "def_Latn": ["y"]})
    with pytest.raises(BadFileError, match="DatasetDict"):
        gathered(tmp_path / "g" / "def_Latn")  # one subset, not the dir of subsets
    datasets.Dataset.from_dict({"body": ["x"]}).save_to_disk(tmp_path / "g" / "xyz_Latn" / "train")
    with pytest.raises(IncompatibleInputsError, match="text"):
        gathered(tmp_path / "g")
