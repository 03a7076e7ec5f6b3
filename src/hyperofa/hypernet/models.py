"""Hypernetworks: the set of word vectors matched to a token → that token's embedding row.

Input convention (shared with `data.py`): `word_ids[b, i]` is a row of the frozen word table,
word index w → row w + 1; row 0 is PAD (all zeros). `lengths[b]` says how many leading entries
of `word_ids[b]` are real; it, not the PAD id, decides what is masked, so a padded batch and the
same items one at a time give the same outputs.
"""

from __future__ import annotations

import warnings
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hyperofa.config.enums import HypernetArchitecture
from hyperofa.config.hypernet import HypernetModelConfig
from hyperofa.errors import IncompatibleInputsError

PAD_ID = 0


def word_rows(word_ids: np.ndarray) -> np.ndarray:
    """Word indices (rows of the word-vector table) → rows of the PAD-prefixed frozen table."""
    return np.asarray(word_ids, dtype=np.int64) + 1


@runtime_checkable
class Hypernet(Protocol):
    """What every hypernetwork offers (BiLSTM, SetFormer, and any later one)."""

    output_dim: int
    max_context: int  # words per token the data pipeline feeds it (first ones in CSR order)

    def forward(self, word_ids: Tensor, lengths: Tensor) -> Tensor:
        """word_ids: LongTensor[B, L] (PAD-prefixed rows); lengths: LongTensor[B] ≥ 1 → [B, D_out]."""
        ...


class FrozenWordTable(nn.Module):
    """The word-vector table behind a zero PAD row 0, frozen and left out of the state dict.

    The vectors are shared, not copied (a float32 array or memory map of ColexNet+ is ~2.9 GB):
    row r > 0 reads vector r − 1 and PAD reads as zeros. Non-persistent, so checkpoints stay small
    and a net rebuilt with `build_hypernet` + `load_state_dict` gets the table from the vectors.
    """

    def __init__(self, word_vectors: np.ndarray | Tensor):
        super().__init__()
        if isinstance(word_vectors, np.ndarray):
            with warnings.catch_warnings():  # a read-only memory map is fine: we never write
                warnings.filterwarnings("ignore", message=".*not writable.*")
                vectors = torch.from_numpy(np.asarray(word_vectors, dtype=np.float32))
        else:
            vectors = torch.as_tensor(word_vectors, dtype=torch.float32)
        self.register_buffer("weight", vectors, persistent=False)

    @property
    def dim(self) -> int:
        return self.weight.shape[1]

    def forward(self, word_ids: Tensor) -> Tensor:
        """[B, L] rows (PAD = 0) → [B, L, d] vectors."""
        vectors = F.embedding((word_ids - 1).clamp_min(0), self.weight)
        return vectors * (word_ids != PAD_ID).unsqueeze(-1).to(vectors.dtype)


def _head(in_dim: int, hidden_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden_dim, out_dim),
    )


def reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse the first `lengths[b]` steps of each row of x [B, L, F]; padding stays put."""
    positions = torch.arange(x.shape[1], device=x.device)[None, :]
    source = lengths[:, None] - 1 - positions
    source = torch.where(source >= 0, source, positions)
    return x.gather(1, source[..., None].expand(-1, -1, x.shape[2]))


class BiLSTMHypernet(nn.Module):
    """BiLSTM over the word vectors; last forward ⊕ last backward state → MLP head.

    Head: Linear(2H → 2D') → GELU → Dropout → Linear(2D' → D') (hyper-ofa `LSTMModel`).
    Equal to hyper-ofa's packed `nn.LSTM(bidirectional=True)`, but each direction runs on the
    padded batch (the backward one on rows reversed within their lengths): on CPU a ragged packed
    batch leaves oneDNN and its backward pass is ~25× slower per word (torch 2.13, measured).
    """

    def __init__(self, words: FrozenWordTable, cfg: HypernetModelConfig, output_dim: int):
        super().__init__()
        self.output_dim, self.max_context = output_dim, cfg.max_context
        self.words, self.hidden_size = words, cfg.hidden_size
        dims = [words.dim] + [2 * cfg.hidden_size] * (cfg.num_layers - 1)
        self.forward_lstms = nn.ModuleList(
            nn.LSTM(d, cfg.hidden_size, batch_first=True) for d in dims
        )
        self.backward_lstms = nn.ModuleList(
            nn.LSTM(d, cfg.hidden_size, batch_first=True) for d in dims
        )
        self.between_layers = nn.Dropout(cfg.dropout)  # where nn.LSTM(dropout=…) puts it
        self.head = _head(2 * cfg.hidden_size, 2 * output_dim, output_dim, cfg.dropout)

    def forward(self, word_ids: Tensor, lengths: Tensor) -> Tensor:
        """word_ids [B, L], lengths [B] → [B, D_out]."""
        lengths = lengths.to(word_ids.device)
        x = self.words(word_ids)
        for i, (fwd, bwd) in enumerate(zip(self.forward_lstms, self.backward_lstms, strict=True)):
            x = self.between_layers(x) if i else x
            backward, _ = bwd(reverse_within_lengths(x, lengths))
            x = torch.cat([fwd(x)[0], reverse_within_lengths(backward, lengths)], dim=-1)
        last_step = (lengths - 1)[:, None, None].expand(-1, 1, self.hidden_size)
        forward_final = x[..., : self.hidden_size].gather(1, last_step)[:, 0]
        backward_final = x[:, 0, self.hidden_size :]  # it read the row from its end to step 0
        return self.head(torch.cat([forward_final, backward_final], dim=-1))


class SetFormerHypernet(nn.Module):
    """Transformer encoder without positions (a set model), masked mean pooling, MLP head.

    d_model = word dim; head Linear(d → 2d) → GELU → Dropout → Linear(2d → D') as in hyper-ofa's
    `SetFormer` (which is disabled there; here it trains and infers).
    """

    def __init__(self, words: FrozenWordTable, cfg: HypernetModelConfig, output_dim: int):
        super().__init__()
        self.output_dim, self.max_context = output_dim, cfg.max_context
        self.words = words
        layer = nn.TransformerEncoderLayer(
            d_model=words.dim,
            nhead=cfg.num_heads,
            dim_feedforward=cfg.ff_dim,
            dropout=cfg.dropout,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=cfg.num_layers, enable_nested_tensor=False
        )
        self.head = _head(words.dim, 2 * words.dim, output_dim, cfg.dropout)

    def forward(self, word_ids: Tensor, lengths: Tensor) -> Tensor:
        """word_ids [B, L], lengths [B] → [B, D_out]."""
        positions = torch.arange(word_ids.shape[1], device=word_ids.device)
        padding = positions[None, :] >= lengths.to(word_ids.device)[:, None]  # [B, L], True = pad
        hidden = self.encoder(self.words(word_ids), src_key_padding_mask=padding)
        hidden = hidden.masked_fill(padding[..., None], 0.0)
        pooled = hidden.sum(dim=1) / (~padding).sum(dim=1, keepdim=True).clamp(min=1)
        return self.head(pooled)


_ARCHITECTURES = {
    HypernetArchitecture.bilstm: BiLSTMHypernet,
    HypernetArchitecture.setformer: SetFormerHypernet,
}


def build_hypernet(
    cfg: HypernetModelConfig, word_vectors: np.ndarray | Tensor, output_dim: int | None = None
) -> nn.Module:
    """The hypernetwork named by `cfg.architecture` over the frozen `word_vectors` [N, d].

    `output_dim` (D_out) overrides `cfg.output_dim`; one of them must be set. `cfg.input_dim`
    null takes d from the vectors; a set one must equal d (IncompatibleInputsError). Parameters
    are initialized from torch's global RNG: seed it (or use `torch.random.fork_rng`) for
    reproducible weights.
    """
    out_dim = output_dim if output_dim is not None else cfg.output_dim
    if out_dim is None:
        raise IncompatibleInputsError("hypernet output_dim is unset: pass the targets' width")
    expected = cfg.input_dim if cfg.input_dim is not None else word_vectors.shape[-1]
    if word_vectors.ndim != 2 or word_vectors.shape[1] != expected:
        raise IncompatibleInputsError(
            f"word vectors have shape {tuple(word_vectors.shape)}, but hypernet.model.input_dim"
            f" = {cfg.input_dim}: expected (N, {expected}); null takes the vectors' dim"
        )
    if cfg.architecture == HypernetArchitecture.setformer and expected % cfg.num_heads:
        raise IncompatibleInputsError(
            f"hypernet.model.num_heads = {cfg.num_heads} does not divide the word-vector dim"
            f" {expected} (the SetFormer's d_model)"
        )
    return _ARCHITECTURES[cfg.architecture](FrozenWordTable(word_vectors), cfg, int(out_dim))
