"""`stacked` (ours): a stacked regression (Wolpert 1992; Breiman 1996) of four experts, fitted on
source tokens, that sets a row for every new token.

Experts of a token (each may be absent):
- `ofa`: OFA's prediction from its matched words (`init.ofa`; absent without words);
- `fvt`: the mean row of its pieces under the source tokenizer (`init.fvt`; absent without a
  known piece);
- `script`: the mean source row of its script and word position (`init.script_prior`; absent
  for a script no source token is written in);
- `mean`: the mean source row (always present, so no token is left random).

Fit: source tokens give free supervision. Each fit token's experts are computed as if it were new
— K-fold cross-fitting: the tokens of one fold are left out of the source vocabulary (OFA's
candidates, the pieces FVT may split into, the script means) while their experts are computed —
and one ridge map per coverage pattern takes the concatenated experts to the true row
(`init.stacking`). The fit set is a seeded sample of source tokens, half with matched words where
there are enough. Everything is closed form and deterministic for a seed; nothing is trained.

Calibration: a ridge map's predictions are shrunk toward the mean row, and a row's length is what
a model reads as its loudness (input) and its logit scale (tied head). `text` scales the new rows
about the origin to a mean norm of ρ × the source rows' for each ρ of `text_norms` and keeps the
ρ whose model has the lowest loss on a sample of the training text (`InitInputs.probe`: never an
evaluation text); `spread` stretches each map's predictions about its fit rows' mean to their
spread, measured on the fit set; `none` keeps them.

Held-out view (intrinsic scores): the held-out source tokens are removed from the source
vocabulary for everything — the fit sample, every fold's experts, and their own experts — so the
whole method runs as if they had never been there.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from hyperofa.config.enums import Calibration
from hyperofa.config.initializers import OFAConfig, StackedConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.hypernet.train import TrainResult
from hyperofa.hypernet.train import predict as predict_rows
from hyperofa.init.base import InitInputs
from hyperofa.init.calibration import common_norm, group_norms, mix, mixed_share
from hyperofa.init.fvt import mean_rows
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.script_prior import ScriptGroups, ScriptPrior, script_keys
from hyperofa.init.stacking import Experts, Stack, fit_stack
from hyperofa.init.subword import SourcePieces, surface_forms
from hyperofa.match import TokenWordMap
from hyperofa.vocab.copy import CopyKind

log = logging.getLogger(__name__)

EXPERTS = ("ofa", "fvt", "script", "mean")  # a pattern without fit data drops them in this order
STACK_STREAM = 2  # the seed's stream for the fit sample and folds: default_rng([seed, 2])


@dataclass(frozen=True)
class Queries:
    """Tokens to predict: their ids in `words` (their token → word map) and surface forms."""

    ids: np.ndarray
    forms: list[str | None]
    words: TokenWordMap


@dataclass(frozen=True)
class SourceTokens:
    """The source vocabulary's surface forms, script groups (ids < the rows) and splitter of
    forms into its pieces, and its special ids."""

    forms: list[str | None]
    groups: ScriptGroups
    pieces: SourcePieces
    special: np.ndarray

    @classmethod
    def of(cls, inputs: InitInputs) -> SourceTokens:
        tokenizer = _tokenizer(inputs.source_tokenizer, "source_tokenizer")
        forms = surface_forms(tokenizer, range(min(len(inputs.source_rows), len(tokenizer))))
        special = np.asarray(tokenizer.all_special_ids, dtype=np.int64)
        groups, pieces = ScriptGroups(script_keys(forms)), SourcePieces(tokenizer)
        return cls(forms, groups, pieces, special[special < len(forms)])

    def queries(self, ids: np.ndarray, words: TokenWordMap) -> Queries:
        return Queries(ids, [self.forms[i] for i in ids], words)


def _tokenizer(tokenizer, field: str):
    if tokenizer is None:
        raise IncompatibleInputsError(f"initializer `stacked` needs InitInputs.{field}")
    return tokenizer


def visible_ids(n: int, hidden: np.ndarray) -> np.ndarray:
    """The source ids < n not in `hidden` (the source vocabulary a prediction may read)."""
    keep = np.ones(n, dtype=bool)
    keep[hidden[hidden < n]] = False
    return np.flatnonzero(keep)


def expert_rows(
    inputs: InitInputs,
    source: SourceTokens,
    queries: Queries,
    hidden: np.ndarray,
    ofa: OFAInitializer,
) -> Experts:
    """The four experts of `queries`, reading only the source tokens not in `hidden`."""
    rows, n, k = inputs.source_rows, len(source.forms), inputs.source_rows.shape[1]
    visible = visible_ids(n, hidden)
    out = np.zeros((len(EXPERTS), len(queries.ids), k), dtype=np.float32)
    present = np.zeros((len(EXPERTS), len(queries.ids)), dtype=bool)
    present[0] = _has_words(queries.words, queries.ids)
    if present[0].any() and _has_words(inputs.source_words, visible).any():
        excluded = hidden if len(hidden) else None
        out[0, present[0]] = ofa.predict(inputs, queries.words, queries.ids[present[0]], excluded)
    else:
        present[0] = False
    pieces = source.pieces.without(hidden).split(queries.forms, n)
    out[1], present[1] = mean_rows(pieces, rows), [len(p) > 0 for p in pieces]
    prior = ScriptPrior(source.groups, visible, rows)
    out[2], present[2] = prior.rows(script_keys(queries.forms))
    out[3], present[3] = mean_without(rows[:n], hidden), True
    return Experts(EXPERTS, out, present)


def mean_without(rows: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """float64 (k,): the mean of `rows` less the rows `hidden` (no copy of the table)."""
    hidden = np.unique(hidden[hidden < len(rows)])
    total = rows.sum(axis=0, dtype=np.float64) - rows[hidden].sum(axis=0, dtype=np.float64)
    return total / max(len(rows) - len(hidden), 1)


def _has_words(words: TokenWordMap, ids: np.ndarray) -> np.ndarray:
    """bool (len(ids),): the token has matched words in `words` (False past its ids)."""
    inside = ids < words.num_tokens
    out = np.zeros(len(ids), dtype=bool)
    out[inside] = words.covered()[ids[inside]]
    return out


def fit_sample(
    inputs: InitInputs, source: SourceTokens, hidden: np.ndarray, size: int, seed: int
) -> np.ndarray:
    """Sorted source ids to fit on: not hidden or special, with a surface form; up to size / 2
    with matched words and the rest without (either part fills what the other lacks)."""
    eligible = np.array([form is not None for form in source.forms], dtype=bool)
    eligible[source.special] = False
    eligible[hidden[hidden < len(eligible)]] = False
    ids = np.flatnonzero(eligible)
    matched = _has_words(inputs.source_words, ids)
    with_words, without = ids[matched], ids[~matched]
    n_with = min(len(with_words), max(size // 2, size - len(without)))
    n_without = min(len(without), size - n_with)
    rng = np.random.default_rng([seed, STACK_STREAM])
    picked = [rng.choice(with_words, n_with, False), rng.choice(without, n_without, False)]
    return np.sort(np.concatenate(picked))


def cross_fitted(
    inputs: InitInputs, source: SourceTokens, fit_ids: np.ndarray, hidden: np.ndarray, folds, ofa
) -> Experts:
    """The experts of each fit token computed with its fold (and `hidden`) left out of the
    source vocabulary; folds are a seeded permutation of `fit_ids`."""
    fold = np.random.default_rng([inputs.seed, STACK_STREAM, 1]).permutation(len(fit_ids)) % folds
    k = inputs.source_rows.shape[1]
    rows = np.zeros((len(EXPERTS), len(fit_ids), k), dtype=np.float32)
    present = np.zeros((len(EXPERTS), len(fit_ids)), dtype=bool)
    for f in range(min(folds, len(fit_ids))):
        ids = fit_ids[fold == f]
        queries = source.queries(ids, inputs.source_words)
        part = expert_rows(inputs, source, queries, np.union1d(hidden, ids), ofa)
        rows[:, fold == f], present[:, fold == f] = part.rows, part.present
    return Experts(EXPERTS, rows, present)


class StackedInitializer:
    name = "stacked"

    def __init__(self, cfg: StackedConfig, hypernet: TrainResult | None = None):
        if cfg.hypernet and hypernet is None:
            raise IncompatibleInputsError(
                "initializer `stacked` with hypernet=true needs the trained hypernetwork"
            )
        self.cfg = cfg
        self.hypernet = hypernet if cfg.hypernet else None
        ofa = OFAConfig(top_k=cfg.ofa_top_k, temperature=cfg.ofa_temperature, use_gpu=cfg.use_gpu)
        self.ofa = OFAInitializer(ofa)
        self.calibration: dict[str, float] = {}  # what calibrate=text chose, and its losses
        self._source: tuple[object, int, SourceTokens] | None = None

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """Every new token: the `mean` expert predicts any token."""
        return inputs.copy.kind == CopyKind.NONE

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        target = _tokenizer(inputs.target_tokenizer, "target_tokenizer")
        queries = Queries(token_ids, surface_forms(target, token_ids), inputs.target_words)
        rows = self.predict(inputs, queries, np.zeros(0, dtype=np.int64), self.ofa)
        if self.cfg.calibrate == Calibration.text:
            rows = self.on_text(inputs, queries, rows)
        return rows

    def on_text(self, inputs: InitInputs, queries: Queries, rows: np.ndarray) -> np.ndarray:
        """`rows` as chosen on training text (`inputs.probe`, `init.calibration`): one common
        norm of `text_norms`; with the hypernetwork, its share of the rows of tokens with words;
        then (calibrate_groups) the norm of tokens with words and of the rest."""
        if inputs.probe is None:
            raise IncompatibleInputsError(
                "initializer `stacked` with calibrate=text needs InitInputs.probe (the source "
                "model's loss on training text)"
            )
        probe, ids, norms = inputs.probe, queries.ids, self.cfg.text_norms
        source = float(np.linalg.norm(inputs.source_rows, axis=1).mean())
        rows, record = common_norm(probe, ids, rows, norms, source)
        words = _has_words(queries.words, ids)
        if self.hypernet is not None and words.any():
            hyper = self.hypernet_rows(queries.words, ids[words])
            shares = self.cfg.hypernet_shares
            rows, mixed = mixed_share(probe, ids, rows, words, hyper, shares, "hypernet")
            record.update(mixed)
        if self.cfg.calibrate_groups:
            groups = {"words": words, "nowords": ~words}
            rows, chosen = group_norms(
                probe, ids, rows, groups, norms, source, record["calibration_loss"]
            )
            record.update(chosen)
        self.calibration = record
        log.info("stacked: chosen on training text: %s", ", ".join(
            f"{k} {v:g}" for k, v in record.items() if "loss_" not in k))  # fmt: skip
        return rows

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Held-out source tokens, the method run on the source vocabulary without them (OFA on
        the CPU index, as `ofa`'s held-out view)."""
        source = self.source_tokens(inputs)
        offline = OFAInitializer(dataclasses.replace(self.ofa.cfg, use_gpu=False))
        queries = source.queries(np.asarray(source_ids), inputs.source_words)
        rows = self.predict(inputs, queries, np.asarray(source_ids), offline, source)
        if self.hypernet is not None:  # mixed in by the share chosen for the new tokens
            if "hypernet_share" not in self.calibration:
                raise IncompatibleInputsError("stacked: the held-out view needs `fill` first")
            words = _has_words(inputs.source_words, queries.ids)
            hyper = self.hypernet_rows(inputs.source_words, queries.ids[words])
            rows[words] = mix(rows[words], hyper, self.calibration["hypernet_share"])
        return rows, np.ones(len(source_ids), dtype=bool)

    def predict(
        self,
        inputs: InitInputs,
        queries: Queries,
        hidden: np.ndarray,
        ofa: OFAInitializer,
        source: SourceTokens | None = None,
    ) -> np.ndarray:
        """float32 (n, k): the stack fitted without `hidden`, applied to `queries`' experts."""
        source = source or self.source_tokens(inputs)
        new = expert_rows(inputs, source, queries, hidden, ofa)
        stack = self.fit(inputs, source, hidden, ofa, new.patterns())
        patterns, counts = np.unique(new.patterns(), return_counts=True)
        log.info(
            "stacked: %s tokens by the experts present: %s", f"{len(queries.ids):,}",
            ", ".join(f"{stack.label(int(p))} {c:,}" for p, c in zip(patterns, counts, strict=True)),
        )  # fmt: skip
        return stack.predict(new)

    def source_tokens(self, inputs: InitInputs) -> SourceTokens:
        """`SourceTokens.of(inputs)`, built once for `fill` and `heldout` alike."""
        key = (inputs.source_tokenizer, len(inputs.source_rows))
        if self._source is None or self._source[0] is not key[0] or self._source[1] != key[1]:
            self._source = (*key, SourceTokens.of(inputs))
        return self._source[2]

    def hypernet_rows(self, words: TokenWordMap, ids: np.ndarray) -> np.ndarray:
        return predict_rows(self.hypernet.model, words.indptr, words.indices, ids)

    def fit(
        self,
        inputs: InitInputs,
        source: SourceTokens,
        hidden: np.ndarray,
        ofa: OFAInitializer,
        wanted: np.ndarray,
    ) -> Stack:
        """The ridge maps of the patterns in `wanted`, fitted on cross-fitted source tokens."""
        fit_ids = fit_sample(inputs, source, hidden, self.cfg.fit_tokens, inputs.seed)
        fit = cross_fitted(inputs, source, fit_ids, hidden, self.cfg.folds, ofa)
        targets = inputs.source_rows[fit_ids]
        spread = self.cfg.calibrate == Calibration.spread
        stack = fit_stack(fit, targets, wanted, self.cfg.ridge, spread)
        log.info(
            "stacked: fitted on %s source tokens (%s with matched words, %d folds): %s",
            f"{len(fit_ids):,}", f"{int(fit.present[0].sum()):,}", self.cfg.folds,
            stack.describe(),
        )  # fmt: skip
        return stack
