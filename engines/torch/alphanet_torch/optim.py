"""Nesterov SGD with the workbench's no-decay rule, gradient clipping by value, and the warmup-cosine schedule — as
`src-main/train/optimizer.ts` and `schedule.ts` (docs/TRAINING.md, METHOD.md §2.1).

Per parameter with a gradient, in order: clip every entry to [−c, c] (c = 0: off), d = g + λw (λ = 0 for BN parameters
and biases), v ← μv + d, w ← w − lr·(d + μv) (Nesterov) or w ← w − lr·v. Buffers are keyed by the parameter's name; a
parameter without a gradient in a step is skipped (PyTorch skips `grad is None`), so a block no member used keeps its
momentum untouched.
"""
import math
from typing import Dict

import torch

from .supernet import is_no_decay_param


def learning_rate(base: float, t: int, total_steps: int, warmup_steps: float, warmup_start_factor: float = 0.001) -> float:
    """lr(t) = base · w(t) · ½(1 + cos(π t / T_max)), w linear from f to 1 over the first T_w steps (t 0-based)."""
    if not total_steps > 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    f = warmup_start_factor
    w = f * (1 - t / warmup_steps) + t / warmup_steps if t < warmup_steps else 1.0
    tt = min(max(t, 0), total_steps)
    return base * w * 0.5 * (1 + math.cos(math.pi * tt / total_steps))


class NesterovSgd:
    def __init__(self, params: Dict[str, torch.nn.Parameter], momentum: float = 0.9, nesterov: bool = True, weight_decay: float = 0.0):
        self.params = params
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.buffers: Dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def step(self, lr: float, clip_value: float = 0.0) -> float:
        """One update from the parameters' `.grad`; returns the share of gradient entries that were clipped. The count
        stays on the device until the end: one synchronisation per step, not one per parameter (on a GPU, hundreds)."""
        clipped = 0
        total = 0
        for name, p in self.params.items():
            g = p.grad
            if g is None:
                continue
            if clip_value > 0:
                clipped = clipped + (g.abs() > clip_value).sum()
                total += g.numel()
                g = g.clamp(-clip_value, clip_value)
            d = g if self.weight_decay == 0 or is_no_decay_param(name) else g + self.weight_decay * p
            v = self.buffers.get(name)
            if v is None:
                v = self.buffers[name] = d.clone()
            else:
                v.mul_(self.momentum).add_(d)
            p.sub_(lr * (d + self.momentum * v) if self.nesterov else lr * v)
        return int(clipped) / total if total else 0.0

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None
