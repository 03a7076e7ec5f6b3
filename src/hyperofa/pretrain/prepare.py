"""Text of any size → packed blocks on disk, once: the data a continued pre-training run reads.

Three passes, each holding one batch at a time: the texts are cleaned into one Arrow file per
language (`corpus.collect`), tokenized by a batched `datasets.Dataset.map` over `num_proc`
processes, then packed per language into blocks (`BlockWriter`). The blocks equal those of
`data.pack_corpus` on the same texts: a language's texts joined by the end token, cut into
`[start] t_1 … t_{L-2} [end]` blocks (masked LM), or each text followed by the end token and cut
into `[start] t_1 … t_{L-1}` blocks (causal), the last one shorter and padded. The dir's layout
is described in `blocks`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from hyperofa.artifacts import write_json_atomic
from hyperofa.corpus.collect import CollectedTexts, collect_texts
from hyperofa.corpus.texts import check_text_counts
from hyperofa.errors import EmptyInputError
from hyperofa.pretrain.blocks import (
    FORMAT,
    META,
    SPLITS,
    BlockWriter,
    listed,
    objective,
    special_record,
)
from hyperofa.pretrain.data import SpecialIds, body_length, pack_stream

TOKENIZE_BATCH = 1000  # texts per tokenizer call


def prepare_cpt_data(
    tokenizer: Any,
    train_source: Any,
    val_source: Any,
    out: Path,
    max_length: int,
    cap: int | None = None,
    languages: Sequence[str] | None = None,
    num_proc: int = 1,
    masked: bool = True,
) -> dict[str, Any]:
    """Write the blocks of `train_source` / `val_source` (any `corpus.streams` layout) into
    `out`, laid out for a masked LM or (`masked=False`) next-token prediction; `cap` keeps the
    first texts of each training language, `languages` selects them. Returns the counts (texts,
    tokens, blocks per split; tokens per second)."""
    out, started = Path(out), time.perf_counter()
    work = out / "work"
    train = collect_texts(train_source, work / "train_texts", cap, languages, "train")
    val = collect_texts(val_source, work / "val_texts", None, languages, "val")
    check_text_counts(train.counts, val.counts)
    order = sorted(train.counts) + sorted(set(val.counts) - set(train.counts))
    ids = SpecialIds.from_tokenizer(tokenizer, masked)
    splits = {}
    for split, texts in zip(SPLITS, (train, val), strict=True):
        tokens = _tokenize(tokenizer, texts, order, work / f"{split}_tokens.arrow", num_proc)
        splits[split] = _pack(tokens, texts, order, out / f"{split}.arrow", max_length, ids)
        if not sum(splits[split]["blocks"]):
            raise EmptyInputError(f"no {split} tokens to pack: every text tokenized to nothing")
    shutil.rmtree(work)
    meta = {"format": FORMAT, "objective": objective(masked), "max_length": max_length}
    meta |= {"languages": order, "splits": splits}
    meta["selection"] = {"max_texts_per_language": cap, "languages": listed(languages)}
    write_json_atomic(out / META, meta | {"special": special_record(ids)})
    counts = {f"{s}_{k}": int(sum(v[k])) for s, v in splits.items() for k in v}
    tokens = counts["train_tokens"] + counts["val_tokens"]
    rate = tokens / (time.perf_counter() - started)
    return counts | {"languages": len(order), "tokens_per_second": round(rate, 1)}


def _token_ids(batch: dict[str, list[str]], tokenizer: Any) -> dict[str, list[list[int]]]:
    return {"ids": tokenizer(batch["text"], add_special_tokens=False)["input_ids"]}


def _tokenize(
    tokenizer: Any, texts: CollectedTexts, order: Sequence[str], out: Path, num_proc: int
) -> list[Path]:
    """Token ids of every text, languages in `order`: the Arrow files, in row order."""
    from datasets import Dataset, Features, List, Value, concatenate_datasets

    files = [texts.files[lang] for lang in order if texts.counts.get(lang)]
    table = concatenate_datasets([Dataset.from_file(str(f)) for f in files])
    tokens = table.map(
        _token_ids,
        batched=True,
        batch_size=TOKENIZE_BATCH,
        writer_batch_size=TOKENIZE_BATCH,
        fn_kwargs={"tokenizer": tokenizer},
        remove_columns=["text"],
        features=Features({"ids": List(Value("int32"))}),
        num_proc=num_proc if num_proc > 1 and len(table) >= num_proc else None,
        cache_file_name=str(out),
        load_from_cache_file=False,
        new_fingerprint=f"tokens-{out.stem}",
        desc=f"tokenize {out.stem.removesuffix('_tokens')}",
    )
    return [Path(f["filename"]) for f in tokens.cache_files]


class _Packer:
    """One language's token stream → its full blocks as batches of texts arrive, then the short
    last one (`pack_stream`'s blocks, without holding the stream)."""

    def __init__(self, language: int, max_length: int, ids: SpecialIds):
        self.language, self.max_length, self.ids = language, max_length, ids
        self.carry = np.empty(0, dtype=np.int32)
        self.texts = self.tokens = self.blocks = 0

    def add(self, lists: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
        """Blocks [n, L] and lengths [n] completed by the texts `lists` (token ids per text)."""
        offsets = lists.offsets.to_numpy()
        offsets = offsets - offsets[0]
        values = lists.flatten().to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        between = offsets[:-1] if self.texts else offsets[1:-1]
        cuts = between if self.ids.masked else offsets[1:]  # the end token after each text
        stream = np.concatenate([self.carry, np.insert(values, cuts, self.ids.end)])
        self.texts, self.tokens = self.texts + len(lists), self.tokens + len(values)
        body = body_length(self.max_length, self.ids)
        n = len(stream) // body
        self.carry = stream[n * body :]
        blocks = np.empty((n, self.max_length), dtype=np.int32)
        blocks[:, 0], blocks[:, -1] = self.ids.start, self.ids.end  # causal: -1 is overwritten
        blocks[:, 1 : 1 + body] = stream[: n * body].reshape(n, body)
        self.blocks += n
        return blocks, np.full(n, self.max_length, dtype=np.int32)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """The last, shorter block (none when the stream filled whole blocks)."""
        blocks, lengths = pack_stream(self.carry, self.max_length, self.ids)
        self.blocks += len(blocks)
        return blocks, lengths


def _token_lists(files: list[Path]) -> Iterator[pa.ListArray]:
    for path in files:
        with pa.OSFile(str(path)) as f:
            for batch in pa.ipc.open_stream(f):
                yield batch.column("ids")


def _by_language(lists: Iterator[pa.ListArray], counts: list[int]) -> Iterator[tuple[int, Any]]:
    """(language index, its rows) runs of consecutive rows, `counts` rows per language."""
    language, left = -1, 0
    for array in lists:
        start = 0
        while start < len(array):
            while not left:
                language += 1
                left = counts[language]
            n = min(left, len(array) - start)
            yield language, array.slice(start, n)
            start, left = start + n, left - n


def _pack(
    files: list[Path],
    texts: CollectedTexts,
    order: Sequence[str],
    out: Path,
    max_length: int,
    ids: SpecialIds,
) -> dict[str, list[int]]:
    """Pack the tokenized texts into `out`; texts, tokens and blocks per language of `order`."""
    counts = [texts.counts.get(lang, 0) for lang in order]
    figures = {k: [0] * len(order) for k in ("texts", "tokens", "blocks")}
    writer, packer = BlockWriter(out, max_length), None
    progress = tqdm(total=sum(counts), desc=f"pack {out.stem}", unit=" texts", mininterval=2)

    def finish(p: _Packer | None) -> None:
        if p is not None:
            writer.write(*p.finish(), p.language)
            for k in figures:
                figures[k][p.language] = getattr(p, k)

    try:
        for language, lists in _by_language(_token_lists(files), counts):
            if packer is None or packer.language != language:
                finish(packer)
                packer = _Packer(language, max_length, ids)
            writer.write(*packer.add(lists), language)
            progress.update(len(lists))
        finish(packer)
    finally:
        writer.close()
        progress.close()
    return figures
