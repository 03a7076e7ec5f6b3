"""Stage cpt_data: built once per (tokenizer, text, packing settings), reused by every model;
text by path in Glot500-c's layout with HyperOFA's cap."""

from dataclasses import replace

import pytest

from hyperofa.config.schema import LangsetConfig
from hyperofa.paths import cache_root
from hyperofa.pretrain.blocks import open_cpt_data
from hyperofa.stages.common import Keyed
from hyperofa.stages.cpt_data import cpt_data, load, tokenizer_key
from hyperofa.stages.pretrain import pretrain_texts
from tests.unit.pretrain.conftest import make_texts, make_tokenizer, tiny_config

datasets = pytest.importorskip("datasets")


def test_the_stage_builds_once_and_keys_on_tokenizer_text_and_packing(tokenizer, tmp_path):
    texts = Keyed((make_texts(5), make_texts(2, seed=1)), "udhr:aaa,bbb,ccc")
    cfg = tiny_config(max_length=16)
    art = cpt_data(cfg, texts, tokenizer)
    assert art.counts["train_blocks"] == len(load(art).train) > 0
    mtime = (art.path / "train.arrow").stat().st_mtime_ns
    tokenizer.save_pretrained(tmp_path / "tok")
    reloaded = type(tokenizer).from_pretrained(tmp_path / "tok")
    assert tokenizer_key(reloaded) == tokenizer_key(tokenizer)
    again = cpt_data(replace(cfg, num_proc=2, lr=1.0), texts, reloaded)  # not packing settings
    assert again.path == art.path and (art.path / "train.arrow").stat().st_mtime_ns == mtime
    assert cpt_data(replace(cfg, max_length=24), texts, tokenizer).path != art.path
    assert cpt_data(cfg, Keyed(texts.value, "other"), tokenizer).path != art.path
    assert cpt_data(cfg, texts, Keyed(tokenizer, "given")).path != art.path
    assert not list(cache_root().rglob("work"))


def test_glot500_text_by_path_is_capped_per_subset(tmp_path):
    for name, n in (("eng_Latn", 40), ("kab_Latn", 6), ("fry_Latn", 3)):
        texts = [f"the cat sat {i}" for i in range(n)]
        datasets.Dataset.from_dict({"text": texts}).save_to_disk(tmp_path / "g" / name / "train")
        (tmp_path / "val").mkdir(exist_ok=True)
        (tmp_path / "val" / f"{name}.txt").write_text("the dog sat\n")
    cfg = tiny_config(
        max_length=16,
        train_path=str(tmp_path / "g"),
        val_path=str(tmp_path / "val"),
        max_texts_per_language=10,
        languages=["eng_Latn", "kab_Latn"],
    )

    class NoUDHR:
        def texts(self, langs, split):
            return {}

    texts = pretrain_texts(cfg, LangsetConfig(name="x", languages=[]), Keyed(NoUDHR(), "c"))
    data = open_cpt_data(cpt_data(cfg, texts, make_tokenizer()).path)
    assert data.train.languages == ("eng_Latn", "kab_Latn")
    assert data.meta["splits"]["train"]["texts"] == [10, 6]
