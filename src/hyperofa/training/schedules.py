"""Learning-rate multipliers per optimizer update (0-based step), for `LambdaLR`."""

from __future__ import annotations


def warmup_linear_decay(step: int, warmup_steps: int, max_steps: int) -> float:
    """Continued pre-training: (s+1)/(w+1) while warming up, then linearly down to 1/(T−w) at the
    last update — no update runs at lr 0."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    return max(0.0, (max_steps - step) / max(1, max_steps - warmup_steps))


def warmup_linear_to_zero(step: int, warmup_steps: int, total_steps: int) -> float:
    """Fine-tuning (the HF default schedule): (s+1)/w while warming up, then linearly to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
