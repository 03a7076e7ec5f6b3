from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from hyperofa.cli import CONF_DIR
from hyperofa.config.evaluate import EvalConfig, FineTuneConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.training import TrainerConfig
from hyperofa.config.validate import structured
from hyperofa.errors import ConfigError, MissingPathError
from hyperofa.evaluate import tasks
from hyperofa.evaluate.retrieval import embed
from tests.tiny import tiny_bert
from tests.unit.evaluate.conftest import save_assembled

HW = TrainerConfig(progress=False)


def task_config(name: str, raw) -> object:
    """A task node as the entry point validates it (composed by its conf/eval yaml)."""
    cfg = structured(EvalConfig, {name: {**raw, "task": name}}, "eval")
    check_tree(cfg, "eval")
    return getattr(cfg, name)


def run_task(name: str, model_dir, raw: dict) -> dict:
    return tasks.run_task(name, model_dir, task_config(name, raw), 0, HW)


MINE = ["sr_t", "sr_b", "ner", "pos", "taxi1500", "embedded_pos"]
TINY = {
    "epochs": 1,
    "lr": 1e-3,
    "batch_size": 4,
    "accumulate_grad_batches": 1,
    "max_length": 16,
}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", MINE)
def test_each_eval_yaml_validates_into_its_task_config(name, tmp_path):
    raw = OmegaConf.load(Path(CONF_DIR) / "eval" / f"{name}.yaml")
    assert raw.task == tasks.get_task(name).name == name
    if "path" in raw:
        assert OmegaConf.is_missing(raw, "path")  # data by path, required
        raw.path = str(tmp_path)
    cfg = task_config(name, OmegaConf.to_container(raw))
    assert cfg.task == name
    if name in ("ner", "pos"):  # paper values (DESIGN §3.5)
        ft = cfg.finetune
        assert (ft.epochs, ft.lr, ft.max_length, ft.batch_size * ft.accumulate_grad_batches) == (
            10,
            2e-5,
            256,
            32,
        )
    if name == "taxi1500":
        ft = cfg.finetune
        assert (ft.epochs, ft.lr, ft.max_length, ft.batch_size, ft.accumulate_grad_batches) == (
            40,
            1e-5,
            100,
            8,
            2,
        )
    if name.startswith("sr_"):
        assert cfg.layer == 8 and 10 in cfg.ks


def test_hydra_places_each_task_under_eval():
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["eval=[step0,sr_t,ner]"])
    assert cfg.eval.tasks == ["mlm_heldout", "sr_udhr"]  # step0 untouched
    assert cfg.eval.sr_t.layer == 8 and cfg.eval.ner.finetune.epochs == 10


def test_bad_values_name_their_key(tmp_path):
    with pytest.raises(ConfigError, match="eval.dancing"):
        tasks.get_task("dancing")
    with pytest.raises(ConfigError, match=r"eval\.ner\.finetune\.epochs"):
        task_config("ner", {"path": str(tmp_path), "finetune": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match=r"eval\.ner\.finetune\.lr"):
        task_config("ner", {"path": str(tmp_path), "finetune": {"lr": 0.0}})
    with pytest.raises(MissingPathError, match=r"eval\.ner\.path"):
        tasks.check_task("ner", task_config("ner", {}))
    with pytest.raises(MissingPathError, match="token<TAB>tag"):
        tasks.check_task("ner", task_config("ner", {"path": str(tmp_path / "missing")}))


def test_subset_is_seeded_and_keeps_order():
    items = list(range(100))
    a, b = tasks.subset(items, 10, seed=3), tasks.subset(items, 10, seed=3)
    assert a == b and a == sorted(a) and len(set(a)) == 10
    assert tasks.subset(items, None, 0) == items and tasks.subset(items, 500, 0) == items


def test_sr_t_and_sr_b_run_end_to_end(model_dir, tmp_path):
    english = ["the cat runs", "a dog sees", "the big red dog", "a fast cat"]
    write(tmp_path / "t" / "tatoeba.kat-eng.kat", "\n".join(english) + "\n")
    write(tmp_path / "t" / "tatoeba.kat-eng.eng", "\n".join(english) + "\n")
    out = run_task("sr_t", model_dir, {"path": str(tmp_path / "t"), "layer": 2, "ks": [1, 2]})
    assert out["per_language"]["kat"] == {"top1": 1.0, "top2": 1.0} == out["average"]
    write(tmp_path / "b" / "eng.txt", "".join(f"4000100{i}\t{t}\n" for i, t in enumerate(english)))
    write(
        tmp_path / "b" / "hun.txt", "".join(f"4000100{i}\t{t}\n" for i, t in enumerate(english[:3]))
    )
    out = run_task("sr_b", model_dir, {"path": str(tmp_path / "b"), "max_sentences": 2, "layer": 1})
    assert list(out["per_language"]) == ["hun"] and out["average"]["top1"] == 1.0
    assert out["sources"] == {"hun": ["hun.txt", "eng.txt"]}  # which Bible each side came from


def test_ner_pos_and_taxi1500_run_end_to_end(model_dir, tmp_path):
    ner = "xx:the\tO\nxx:cat\tB-PER\nxx:runs\tO\n\nxx:a\tO\nxx:dog\tB-LOC\n"
    for split, lang in [("train", "en"), ("dev", "en"), ("test", "en"), ("test", "de")]:
        write(tmp_path / "ner" / f"{split}-{lang}.tsv", ner)
    out = run_task("ner", model_dir, {"path": str(tmp_path / "ner"), "finetune": TINY})
    assert set(out["per_language"]) == {"de", "en"} and set(out["average"]) == {
        "f1",
        "precision",
        "recall",
    }
    conllu = "1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tcat\tcat\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
    for split in ("train", "dev", "test"):
        write(tmp_path / "ud" / "UD_English-X" / f"en_x-ud-{split}.conllu", conllu)
    write(tmp_path / "ud" / "UD_Indonesian-Y" / "id_y-ud-test.conllu", conllu)
    out = run_task(
        "pos", model_dir, {"path": str(tmp_path / "ud"), "languages": ["id"], "finetune": TINY}
    )
    assert list(out["per_language"]) == ["id"] and "accuracy" in out["average"]
    rows = "1\tFaith\tthe dog\n2\tSin\ta cat\n"
    for split in ("train", "dev", "test"):
        write(tmp_path / "taxi" / "eng_data" / f"eng_{split}.tsv", rows)
    out = run_task("taxi1500", model_dir, {"path": str(tmp_path / "taxi"), "finetune": TINY})
    assert list(out["per_language"]) == ["eng"] and set(out["average"]) == {"accuracy", "macro_f1"}


def test_fine_tune_config_defaults_are_the_ner_pos_paper_values():
    cfg = FineTuneConfig()
    assert (cfg.epochs, cfg.lr, cfg.max_length, cfg.batch_size * cfg.accumulate_grad_batches) == (
        10,
        2e-5,
        256,
        32,
    )


def test_a_plain_transformers_dir_loads_like_its_full_rank_factorized_form(tokenizer, tmp_path):
    tiny_bert(len(tokenizer), hidden=16, seed=0).save_pretrained(tmp_path / "plain")
    tokenizer.save_pretrained(tmp_path / "plain")
    save_assembled(tokenizer, tmp_path / "factorized", dim=16, seed=0)  # the same source weights
    texts = ["the cat runs", "a big dog"]
    vectors = [
        embed(*tasks.load_encoder(tmp_path / d), texts, layer=2) for d in ("plain", "factorized")
    ]
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-5)
