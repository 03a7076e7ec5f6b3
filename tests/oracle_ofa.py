"""The public OFA algorithm written out literally, for tests and `bench/ofa_parity.py` to compare the
library with (cisnlp/ofa `ofa/utils.py`, read for what it does; plain loops, no speed-ups).

- `word_lists`: `get_subword_embeddings_in_word_embedding_space`'s loop — per word and per surface
  form one `tokenizer.encode(form, add_special_tokens=False)`, each id of the form's set gets the
  word appended (a multiset over forms).
- `subword_vectors`: the mean of each list, float64.
- `overlapping_tokens`: `get_overlapping_tokens` with fuzzy_search on, fuzzy_whitespace off.
- `target_rows`: `create_target_embeddings` — dense cosine (numpy; zero rows give 0, as sklearn's
  `cosine_similarity`), `np.argpartition` top-k, softmax(sim / T) over the k, weighted sum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SP_SPACE = "\u2581"


def word_lists(tokenizer, keys: Sequence[str]) -> dict[int, list[int]]:
    """token id → word rows, a word once per surface form whose tokenization holds the token."""
    embs: dict[int, list[int]] = {i: [] for i in tokenizer.get_vocab().values()}
    for i, key in enumerate(keys):
        if not (len(key) > 4 and key[3] == ":"):
            key = f"eng:{key}"
        word_ori = key[4:]
        word = word_ori.replace("$", " ")
        forms = [
            tokenizer.encode(word, add_special_tokens=False),
            tokenizer.encode(" " + word, add_special_tokens=False),
            tokenizer.encode(f"{word[1].upper() + word[2:]}", add_special_tokens=False)
            if word_ori[0] == "$"
            else "",
            tokenizer.encode(f" {word[0].upper() + word[1:]}", add_special_tokens=False)
            if word_ori[0] != "$"
            else "",
        ]
        for tokenized in forms:
            for subword_id in set(tokenized):
                embs[subword_id].append(i)
    return embs


def subword_vectors(
    num_tokens: int, lists: dict[int, list[int]], word_vectors: np.ndarray
) -> np.ndarray:
    """float64 (num_tokens, d): each token's mean over its list; zero rows for empty lists."""
    out = np.zeros((num_tokens, word_vectors.shape[1]))
    for i in range(num_tokens):
        if not lists[i]:
            continue
        weight = np.ones(len(lists[i]))
        weight = weight / weight.sum()
        vectors = [word_vectors[w] for w in lists[i]]
        out[i] = (np.stack(vectors) * weight[:, np.newaxis]).sum(axis=0)
    return out


def _standardizer(tokenizer):
    keys = list(tokenizer.get_vocab())
    if len([k for k in keys if k[0] == SP_SPACE]) > 100:
        return lambda i: tokenizer.convert_ids_to_tokens(i).replace(SP_SPACE, " ")
    if len([k for k in keys if k[:2] == "##"]) > 100:

        def wordpiece(i: int) -> str:
            token = tokenizer.decode(i)
            return token[2:] if token.startswith("##") else " " + token

        return wordpiece
    return lambda i: tokenizer.decode(i)


def overlapping_tokens(target_tokenizer, source_tokenizer) -> dict[int, int]:
    """target id → source id of the tokens the public code copies."""
    std = _standardizer(source_tokenizer)
    source_vocab = {std(i): i for i in sorted(source_tokenizer.get_vocab().values())}
    std = _standardizer(target_tokenizer)
    target_vocab = {std(i): i for i in sorted(target_tokenizer.get_vocab().values())}
    overlap = {k: (target_vocab[k], source_vocab[k]) for k in set(target_vocab) & set(source_vocab)}
    lowercase_source_vocab = {k.lower(): v for k, v in sorted(source_vocab.items())}
    for target_token, target_idx in sorted(target_vocab.items()):
        if overlap.get(target_token):
            continue
        if lowercase_source_vocab.get(target_token.lower()):
            overlap[target_token] = (target_idx, lowercase_source_vocab[target_token.lower()])
    return {t: s for t, s in overlap.values()}


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.sqrt((x * x).sum(axis=1))[:, None]
    return x / np.where(norms == 0, 1.0, norms)


def target_rows(
    source_tokenizer,
    source_vectors: np.ndarray,
    target_vectors: np.ndarray,
    source_matrix: np.ndarray,
    copied: set[int],
    neighbors: int = 10,
    temperature: float = 0.1,
    tie_tolerance: float = 1e-10,
    batch_size: int = 256,
) -> tuple[dict[int, np.ndarray], set[int]]:
    """(target id → row, for every token the public code initializes from neighbours; the ids
    among them with a tie at the k-th neighbour: k-th and (k+1)-th similarity within
    `tie_tolerance`). Similarities are computed only for the rows to initialize, `batch_size` at
    a time (the public code: every row, 1,024 at a time; the rows are the same, up to BLAS
    rounding, which can decide a tie)."""
    source_unit, vocab = _unit(source_vectors), source_tokenizer.get_vocab()
    todo = [t for t in range(len(target_vectors)) if t not in copied and target_vectors[t].any()]
    rows: dict[int, np.ndarray] = {}
    ties: set[int] = set()
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        similarities = _unit(target_vectors[batch]) @ source_unit.T
        for token_id, sims in zip(batch, similarities, strict=True):
            best = np.argpartition(sims, -neighbors)[-neighbors:]
            tokens = source_tokenizer.convert_ids_to_tokens(best)
            rows[token_id] = _weighted_row(tokens, sims[best], vocab, source_matrix, temperature)
            if len(sims) > neighbors and _kth_gap(sims, neighbors) <= tie_tolerance:
                ties.add(token_id)
    return rows, ties


def _kth_gap(sims: np.ndarray, k: int) -> float:
    """The k-th largest similarity minus the (k+1)-th."""
    top = np.sort(np.partition(-sims, k)[: k + 1])  # negated: the k + 1 largest, descending
    return float(top[k] - top[k - 1])


def _weighted_row(tokens, sims, source_vocab, source_matrix, temperature) -> np.ndarray:
    """`create_target_embeddings`' row of neighbours `tokens` (by string) and their similarities:
    sorted by similarity, softmax(sim / T), float64 sum, in the source matrix's dtype."""
    closest = sorted(zip(tokens, sims, strict=True), key=lambda x: -x[1])
    weights = np.exp(np.array([sim for _, sim in closest]) / temperature)
    weights = weights / weights.sum()
    emb = np.zeros(source_matrix.shape[1])
    for w, (token, _) in zip(weights, closest, strict=True):
        emb += source_matrix[source_vocab[token]] * w
    return emb.astype(source_matrix.dtype)
