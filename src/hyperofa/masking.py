"""BERT-style masked-language-model corruption (Devlin et al. 2019: 15 %, then 80/10/10)."""

from __future__ import annotations

import torch

from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.training import IGNORE_INDEX


def mask_tokens(
    input_ids: torch.Tensor,
    special_tokens_mask: torch.Tensor,
    mask_token_id: int,
    vocab_size: int,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt a batch for MLM; returns (inputs [B, L], labels [B, L]), both int64.

    Each position whose `special_tokens_mask` [B, L] is False (mark padding there too) is selected
    with probability `mlm_probability`. A selected position becomes `mask_token_id` (80 %), a
    token drawn uniformly from [0, vocab_size) (10 %), or stays (10 %); its label is the original
    id. Unselected positions get label -100. `input_ids` is not modified. Random draws come from
    `generator` (on its own device, so a CPU generator gives the same masks for a GPU batch).
    """
    _check(input_ids, special_tokens_mask, vocab_size, mlm_probability)
    device = generator.device if generator is not None else input_ids.device
    shape, ids = input_ids.shape, input_ids.long()

    def draw(p: float) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=device) < p

    maskable = ~special_tokens_mask.bool().to(device)
    selected = draw(mlm_probability) & maskable
    to_mask = draw(0.8) & selected
    to_random = draw(0.5) & selected & ~to_mask  # half of the remaining 20 %
    random_ids = torch.randint(vocab_size, shape, generator=generator, device=device)
    selected, to_mask, to_random = (t.to(ids.device) for t in (selected, to_mask, to_random))
    labels = ids.masked_fill(~selected, IGNORE_INDEX)
    inputs = ids.masked_fill(to_mask, mask_token_id)
    inputs = torch.where(to_random, random_ids.to(ids.device), inputs)
    return inputs, labels


def _check(
    input_ids: torch.Tensor, special: torch.Tensor, vocab_size: int, probability: float
) -> None:
    if input_ids.shape != special.shape:
        raise IncompatibleInputsError(
            f"input_ids {tuple(input_ids.shape)} and special_tokens_mask "
            f"{tuple(special.shape)} differ in shape"
        )
    if not 0.0 <= probability <= 1.0:
        raise ConfigError("mlm_probability", probability, "a probability in [0, 1]")
    if vocab_size <= 0:
        raise ConfigError("vocab_size", vocab_size, "a positive number of tokens")
