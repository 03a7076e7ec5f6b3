"""The published layouts each loader accepts, as error messages and conf/eval/*.yaml name them.

`{lang}` is the code in the file name, `{split}` one of train, dev, test.
"""

from __future__ import annotations

LAYOUTS = {
    "tatoeba": "tatoeba.{lang}-eng.{lang} + tatoeba.{lang}-eng.eng (LASER Tatoeba v1, the files "
    "XTREME's download_data.sh fetches; {lang} ISO 639-3) or tatoeba.{lang}_{Script}-eng_Latn."
    "{lang}_{Script} + tatoeba.{lang}_{Script}-eng_Latn.eng_Latn (Glot500/OFA), one sentence "
    "per line, line i of one translating line i of the other",
    "bible": "PBC editions {iso}-x-bible[-{name}].txt (or one {lang}.txt per language): `#` "
    "header lines, then `verse_id<TAB>text` lines (verse ids like 40001001), aligned with the "
    "English edition by verse id; or Glot500/OFA pairs bible.{lang}-eng_Latn.{lang} + "
    "bible.{lang}-eng_Latn.eng_Latn, one verse per line, aligned by line",
    "wikiann": "{split}-{lang}.tsv with `token<TAB>tag` lines (XTREME/Glot500 panx "
    "preprocessing) or raw WikiANN `lang:token<TAB>tag` lines (also as {lang}-{split}), a "
    "blank line between sentences; test files must keep their tags",
    "ud": "a Universal Dependencies tree: UD_<Language>-<Treebank>/{lang}_<treebank>-ud-"
    "{split}.conllu, CoNLL-U with 10 tab-separated fields per word line; every treebank of "
    "{lang} is used, concatenated in file-name order (as XTREME)",
    "udpos": "{split}-{lang}.tsv with `word<TAB>UPOS` lines, a blank line between sentences "
    "(XTREME/Glot500 udpos preprocessing; test files must keep their tags)",
    "taxi1500": "{lang}_data/{lang}_{split}.tsv, flat {lang}_{split}.tsv (as OFA's test-only "
    "languages) or {split}/{lang}.tsv (Taxi1500 data_preprocess.py), rows `id<TAB>label<TAB>"
    "verse` with one of the 6 class labels, no header or an `id<TAB>label<TAB>verse` one",
}


def layout(fmt: str, split: str = "") -> str:
    """The layout of `fmt`, with `{split}` filled in when known."""
    return LAYOUTS[fmt].replace("{split}", split or "{split}")
