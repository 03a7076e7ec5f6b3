"""Stage `extend_tokenizer`: the source tokenizer extended Glot500-style on the langset's train
text (or the target tokenizer given by path)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from hyperofa.artifacts import cached_stage
from hyperofa.config.schema import LangsetConfig, TokenizerConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.udhr import ENGLISH_CODE
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, fingerprint
from hyperofa.stages.sources import load_tokenizer
from hyperofa.vocab.extend import extend_tokenizer


def target_tokenizer(
    cfg: TokenizerConfig, langset: LangsetConfig, source: Keyed, corpus: Keyed[UDHRCorpus]
) -> Keyed:
    """The given target tokenizer, or the source one extended on the langset's train text."""
    if cfg.path is not None:
        path = Path(cfg.path)
        return Keyed(load_tokenizer(path, "tokenizer.path"), fingerprint(path))
    texts = corpus.value.texts(langset.languages, "train")
    # English text whose tokenization must not change (WordPiece and BPE extensions drop the
    # pieces or merges that would change it)
    english = corpus.value.texts([ENGLISH_CODE], "train")[ENGLISH_CODE]

    def build(tmp: Path) -> dict:
        tok, counts = extend_tokenizer(
            source.value,
            [t for lang in sorted(texts) for t in texts[lang]],
            vocab_size=cfg.vocab_size,
            seed=cfg.seed,
            protected_texts=english,
        )
        tok.save_pretrained(tmp)
        return counts

    config = {
        "tokenizer": asdict(cfg),
        "languages": sorted(langset.languages),
        "protected": ENGLISH_CODE,
    }
    inputs = {"source": source.key, "corpus": corpus.key}
    art = cached_stage(cache_root(), "extend_tokenizer", config, inputs, build)
    return Keyed(load_tokenizer(art.path, "tokenizer (extended)"), art.key)
