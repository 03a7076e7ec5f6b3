"""The start-up check (`suite.check_tasks` → each task's `check`): every composed task finds its
files and reads their first lines before any heavy stage, and names a wrong layout there."""

from pathlib import Path

import pytest

from hyperofa.config.evaluate import EvalConfig
from hyperofa.config.validate import structured
from hyperofa.errors import BadFileError, ConfigError, EmptyInputError, MissingPathError
from hyperofa.evaluate import tasks
from hyperofa.evaluate.tasks import check_tasks


def eval_config(data: dict[str, dict]) -> EvalConfig:
    """The eval node with every task of `data` composed (as conf/eval/<task>.yaml marks it)."""
    return structured(EvalConfig, {k: {**v, "task": k} for k, v in data.items()}, "eval")


def check_task(name: str, raw: dict) -> None:
    tasks.check_task(name, getattr(eval_config({name: raw}), name))


CONLLU = "1\tBu\tbu\tDET\t_\t_\t2\tdet\t_\t_\n2\tev\tev\tNOUN\t_\t_\t0\troot\t_\t_\n\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def data(tmp_path) -> dict[str, dict]:
    """One small tree per task in its published layout, and the raw config of each task."""
    write(tmp_path / "tatoeba" / "tatoeba.kat-eng.kat", "გამარჯობა.\nმადლობა.\n")
    write(tmp_path / "tatoeba" / "tatoeba.kat-eng.eng", "Hello.\nThank you.\n")
    for name, verse in (("eng-x-bible-web", "In the beginning"), ("kat-x-bible", "დასაწყისში")):
        write(
            tmp_path / "pbc" / f"{name}.txt",
            f"# closest ISO 639-3: {name[:3]}\n01001001\t{verse}\n",
        )
    for split, lang in (("train", "en"), ("dev", "en"), ("test", "en"), ("test", "ka")):
        write(tmp_path / "panx" / f"{split}-{lang}.tsv", "Tbilisi\tB-LOC\nis\tO\n")
    for split in ("train", "dev", "test"):
        write(tmp_path / "ud" / "UD_English-EWT" / f"en_ewt-ud-{split}.conllu", CONLLU)
        write(tmp_path / "taxi" / "eng_data" / f"eng_{split}.tsv", "41001001\tFaith\tBelieve .\n")
    write(tmp_path / "ud" / "UD_Turkish-IMST" / "tr_imst-ud-test.conllu", CONLLU)
    write(tmp_path / "taxi" / "kat_test.tsv", "41001001\tFaith\tირწმუნეთ .\n")
    return {
        "sr_t": {"path": str(tmp_path / "tatoeba")},
        "sr_b": {"path": str(tmp_path / "pbc")},
        "ner": {"path": str(tmp_path / "panx")},
        "pos": {"path": str(tmp_path / "ud")},
        "taxi1500": {"path": str(tmp_path / "taxi")},
        "embedded_pos": {},
    }


def test_every_task_accepts_its_published_layout(data):
    check_tasks(eval_config(data))
    assert tasks.TASKS["sr_b"].sources(eval_config(data).sr_b)


def _break(data: dict, task: str, relative: str, text: str | None) -> None:
    path = Path(data[task]["path"]) / relative
    if text is None:
        path.unlink()
    else:
        write(path, text)


@pytest.mark.parametrize(
    "task, relative, text, error, message",
    [
        # XTREME's download script strips the tags of the PAN-X test files
        ("ner", "test-ka.tsv", "Tbilisi\nis\n", BadFileError, "strips the tags of test files"),
        ("ner", "dev-en.tsv", None, MissingPathError, "dev-en.tsv"),
        ("ner", "train-en.tsv", "All Blacks B-ORG\n", BadFileError, r"train-en.tsv:1"),
        ("sr_t", "tatoeba.kat-eng.eng", None, MissingPathError, "tatoeba.kat-eng.eng"),
        ("sr_t", "tatoeba.kat-eng.eng", "Hello.\n", BadFileError, "1 lines but"),
        ("sr_b", "kat-x-bible.txt", "Genesis 1:1 In the beginning\n", BadFileError, "verse_id"),
        ("sr_b", "eng-x-bible-web.txt", None, MissingPathError, "`eng`.*found: kat"),
        ("pos", "UD_Turkish-IMST/tr_imst-ud-test.conllu", "1\tBu\tDET\n", BadFileError, "10 tab"),
        ("pos", "UD_English-EWT/en_ewt-ud-train.conllu", None, MissingPathError, "train data"),
        ("taxi1500", "kat_test.tsv", "41001001\tირწმუნეთ .\tFaith\n", BadFileError, "columns"),
        ("taxi1500", "kat_test.tsv", "id\tlabel\tverse\n", EmptyInputError, "no data"),
    ],
)
def test_a_wrong_layout_fails_the_start_up_check(data, task, relative, text, error, message):
    _break(data, task, relative, text)
    with pytest.raises(error, match=message):
        check_tasks(eval_config(data))


def test_xtreme_preprocessed_tatoeba_fails_the_check(data, tmp_path):
    write(tmp_path / "xtreme" / "ka-en.ka", "გამარჯობა.\nმადლობა.\n")
    write(tmp_path / "xtreme" / "ka-en.en", "Hello.\nThank you.\n")
    with pytest.raises(BadFileError, match="sorts the English side"):
        check_task("sr_t", {"path": str(tmp_path / "xtreme")})


def test_requested_languages_must_exist(data):
    with pytest.raises(MissingPathError, match=r"test-de.tsv.*languages found: en, ka"):
        check_task("ner", {**data["ner"], "languages": ["ka", "de"]})
    with pytest.raises(MissingPathError, match=r"train-eng_Latn.tsv"):
        check_task("ner", {**data["ner"], "source_language": "eng_Latn"})
    with pytest.raises(MissingPathError, match=r"tatoeba.amh-eng.amh"):
        check_task("sr_t", {**data["sr_t"], "languages": ["amh"]})
    write(Path(data["sr_b"]["path"]) / "hin_Deva.txt", "01001001\tआदि में\n")
    write(Path(data["sr_b"]["path"]) / "hin_Latn.txt", "01001001\taadi mein\n")
    with pytest.raises(ConfigError, match=r"\['hin_Deva', 'hin_Latn'\]"):
        check_task("sr_b", {**data["sr_b"], "languages": ["hin"]})
    check_task("sr_b", {**data["sr_b"], "languages": ["hin_Latn", "kat-x-bible"]})
