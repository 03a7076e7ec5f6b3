"""SR-T and SR-B data in their published layouts: LASER and Glot500 Tatoeba, PBC editions and
Glot500 Bible pairs. Each test writes the files as their source writes them."""

from pathlib import Path

import pytest

from hyperofa.errors import BadFileError, ConfigError, EmptyInputError, MissingPathError
from hyperofa.evaluate import datasets as ds

PBC_HEADER = (
    "# language_name:        {name}\n# closest ISO 639-3:    {iso}\n# year_short:           1998\n"
    "# year_long:            \n# title:                {name} Bible\n"
    "# URL:                  http://example.org/{iso}\n# copyright_short:      public domain\n"
    "# copyright_long:       \n"
)
KAT = ["ბაღში ბევრი ყვავილია.", "ტომი მასწავლებელია.", "სად არის ჩემი წიგნი?"]
ENG = ["There are many flowers in the garden.", "Tom is a teacher.", "Where is my book?"]


def write(path: Path, text: str, crlf: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode("utf-8"))
    return path


def pbc(iso: str, name: str, verses: dict[str, str]) -> str:
    body = "".join(f"{v}\t{t}\n" for v, t in verses.items())
    return PBC_HEADER.format(name=name, iso=iso) + body


def tatoeba(directory: Path, lang: str, eng: str, xs: list[str], ys: list[str]) -> None:
    write(directory / f"tatoeba.{lang}-{eng}.{lang}", "\n".join(xs) + "\n")
    write(directory / f"tatoeba.{lang}-{eng}.{eng}", "\n".join(ys) + "\n")


def load_tatoeba(directory: Path, languages=None, english="eng"):
    return ds.load_parallel(ds.tatoeba_sources(directory, languages, english))


def load_bible(directory: Path, languages=None, english="eng", max_sentences=None):
    return ds.load_parallel(ds.bible_sources(directory, languages, english), max_sentences)


def test_laser_tatoeba_pairs_are_aligned_by_line(tmp_path):
    tatoeba(tmp_path, "kat", "eng", KAT, ENG)
    tatoeba(tmp_path, "cmn", "eng", ["你好。", "我爱你。"], ["Hello.", "I love you."])
    write(tmp_path / "README.md", "# Tatoeba multilingual test set\n")
    assert load_tatoeba(tmp_path) == {
        "cmn": (["你好。", "我爱你。"], ["Hello.", "I love you."]),
        "kat": (KAT, ENG),
    }
    assert list(load_tatoeba(tmp_path, ["kat"])) == ["kat"]
    # Glot500/OFA codes name the same files: reported under the configured name
    assert load_tatoeba(tmp_path, ["kat_Geor"], english="eng_Latn") == {"kat_Geor": (KAT, ENG)}


def test_glot500_tatoeba_with_script_codes(tmp_path):
    tatoeba(tmp_path, "kat_Geor", "eng_Latn", KAT, ENG)
    tatoeba(tmp_path, "amh_Ethi", "eng_Latn", ["ሰላም።"], ["Hello."])
    sources = ds.tatoeba_sources(tmp_path)  # english `eng` finds the `eng_Latn` side
    assert sorted(sources) == ["amh_Ethi", "kat_Geor"]
    assert sources["kat_Geor"].english.name == "tatoeba.kat_Geor-eng_Latn.eng_Latn"
    assert load_tatoeba(tmp_path, ["kat"]) == {"kat": (KAT, ENG)}


def test_xtreme_preprocessed_tatoeba_is_refused(tmp_path):
    # XTREME's tatoeba_preprocess copies <l3> to <l2>-en.<l2> and writes the English side sorted
    write(tmp_path / "ka-en.ka", "\n".join(KAT) + "\n")
    write(tmp_path / "ka-en.en", "\n".join(sorted(ENG)) + "\n")
    with pytest.raises(BadFileError, match="sorts the English side") as err:
        ds.tatoeba_sources(tmp_path)
    assert "tatoeba.{lang}-eng.{lang}" in str(err.value)


def test_tatoeba_errors_name_the_layout(tmp_path):
    write(tmp_path / "tatoeba.deu-eng.deu", "Hallo\nWelt\n")
    with pytest.raises(MissingPathError, match=r"tatoeba.deu-eng.eng"):
        ds.tatoeba_sources(tmp_path)
    write(tmp_path / "tatoeba.deu-eng.eng", "Hello\n")
    with pytest.raises(BadFileError, match="1 lines but tatoeba.deu-eng.deu has 2"):
        load_tatoeba(tmp_path)
    write(tmp_path / "tatoeba.deu-eng.eng", "Hello\n\n", crlf=True)
    with pytest.raises(BadFileError, match=r"tatoeba.deu-eng.eng:2: empty line") as err:
        load_tatoeba(tmp_path)
    assert err.value.line == 2
    with pytest.raises(MissingPathError, match="tatoeba.xyz-eng.xyz.*languages found: deu"):
        ds.tatoeba_sources(tmp_path, ["xyz"])
    with pytest.raises(EmptyInputError, match="no language files"):
        ds.tatoeba_sources(write(tmp_path / "empty" / "README", "").parent)


def pbc_dir(root: Path) -> Path:
    """Two English editions (New Testament only, whole Bible), German, Georgian (no name)."""
    nt = {"40001001": "The book of the origin of Jesus.", "40001002": "Abraham fathered Isaac."}
    whole = {"01001001": "In the beginning God made the heavens.", **nt, "40001003": ""}
    write(root / "eng-x-bible-newtestament.txt", pbc("eng", "English", nt))
    write(root / "eng-x-bible-newworld2013.txt", pbc("eng", "English", whole), crlf=True)
    deu = {"40001001": "Buch des Ursprungs Jesu.", "40001003": "Juda zeugte Perez."}
    write(root / "deu-x-bible-elberfelder.txt", pbc("deu", "German", deu))
    kat = {"01001001": "დასაწყისში შექმნა ღმერთმა ცა.", "40001002": "აბრაამმა შვა ისაკი."}
    write(root / "kat-x-bible.txt", pbc("kat", "Georgian", kat))
    write(root / "README.txt", "Parallel Bible Corpus, see paralleltext.info\n")
    return root


def test_pbc_editions_align_with_the_largest_english_edition(tmp_path):
    sources = ds.bible_sources(pbc_dir(tmp_path))
    assert sorted(sources) == ["deu", "kat"]  # codes from `<iso>-x-bible-…`; README ignored
    assert {s.english.name for s in sources.values()} == {"eng-x-bible-newworld2013.txt"}
    pairs = ds.load_parallel(sources)
    # 40001003 has no English text in that edition (a merged verse): not a pair
    assert pairs["deu"] == (["Buch des Ursprungs Jesu."], ["The book of the origin of Jesus."])
    assert pairs["kat"] == (
        ["დასაწყისში შექმნა ღმერთმა ცა.", "აბრაამმა შვა ისაკი."],
        ["In the beginning God made the heavens.", "Abraham fathered Isaac."],
    )
    assert load_bible(tmp_path, ["kat"], max_sentences=1)["kat"][0] == [
        "დასაწყისში შექმნა ღმერთმა ცა."
    ]


def test_pbc_editions_and_codes_can_be_named(tmp_path):
    pbc_dir(tmp_path)
    sources = ds.bible_sources(
        tmp_path, ["deu-x-bible-elberfelder", "kat_Geor"], english="eng-x-bible-newtestament"
    )
    assert list(sources) == ["deu-x-bible-elberfelder", "kat_Geor"]
    assert sources["kat_Geor"].path.name == "kat-x-bible.txt"
    assert sources["kat_Geor"].english.name == "eng-x-bible-newtestament.txt"
    with pytest.raises(MissingPathError, match="bible data for `fra`.*languages found: deu, eng"):
        ds.bible_sources(tmp_path, ["fra"])


def test_one_file_per_language_in_pbc_format(tmp_path):
    write(tmp_path / "eng.txt", "# language: eng\n01001001\tIn the beginning\n01001002\tAnd\n")
    write(tmp_path / "deu.txt", "# comment\n01001002\t\n01001001\tIm Anfang\n40001001\tDas Buch\n")
    assert load_bible(tmp_path) == {"deu": (["Im Anfang"], ["In the beginning"])}


def test_glot500_bible_pairs_are_aligned_by_line(tmp_path):
    for lang, verses in (
        ("kat_Geor", KAT),
        ("hin_Deva", ["नमस्ते।"] * 3),
        ("hin_Latn", ["namaste."] * 3),
    ):
        write(tmp_path / f"bible.{lang}-eng_Latn.{lang}", "\n".join(verses) + "\n")
        write(tmp_path / f"bible.{lang}-eng_Latn.eng_Latn", "\n".join(ENG) + "\n")
    pairs = load_bible(tmp_path, max_sentences=2)
    assert sorted(pairs) == ["hin_Deva", "hin_Latn", "kat_Geor"]
    assert pairs["kat_Geor"] == (KAT[:2], ENG[:2])
    assert list(load_bible(tmp_path, ["kat"])) == ["kat"]
    with pytest.raises(ConfigError, match=r"hin_Deva', 'hin_Latn'.*name the script"):
        ds.bible_sources(tmp_path, ["hin"])
    (tmp_path / "bible.kat_Geor-eng_Latn.eng_Latn").unlink()
    with pytest.raises(MissingPathError, match="bible.kat_Geor-eng_Latn.eng_Latn"):
        ds.bible_sources(tmp_path, ["kat_Geor"])
    write(tmp_path / "eng-x-bible-newworld2013.txt", pbc("eng", "English", {"1": "x"}))
    with pytest.raises(BadFileError, match="both PBC editions"):
        ds.bible_sources(tmp_path)


@pytest.mark.parametrize(
    "line,problem",
    [
        ("01001004 no tab", "verse_id<TAB>text"),
        ("Gen1\ttext", "verse_id<TAB>text"),
        ("01001001\tagain", "appears twice"),
    ],
)
def test_bible_malformed_lines_give_their_number_at_the_check(tmp_path, line, problem):
    write(tmp_path / "eng-x-bible-web.txt", "01001001\tIn the beginning\n")
    write(tmp_path / "deu-x-bible-luther.txt", f"# title: Luther\n01001001\tIm Anfang\n{line}\n")
    with pytest.raises(BadFileError, match=problem) as err:
        ds.check_parallel(ds.bible_sources(tmp_path))
    assert err.value.line == 3 and err.value.path.name == "deu-x-bible-luther.txt"


def test_bible_without_verse_lines_or_shared_verses(tmp_path):
    write(tmp_path / "eng.txt", PBC_HEADER.format(name="English", iso="eng"))
    write(tmp_path / "deu.txt", "01001001\tIm Anfang\n")
    with pytest.raises(BadFileError, match="no `verse_id<TAB>text` line"):
        ds.check_parallel(ds.bible_sources(tmp_path))
    write(tmp_path / "eng.txt", "40001001\tThe book\n")
    ds.check_parallel(ds.bible_sources(tmp_path))  # the check reads heads, not the overlap
    with pytest.raises(EmptyInputError, match="no verse id shared"):
        load_bible(tmp_path)
