"""Training losses (METHOD.md §1), as `src-main/engine/losses.ts`.

Conventions (the same as the TypeScript engine): logits [batch, classes]; the student comes first and the teacher
second, q = softmax(student), p = softmax(teacher); the teacher is detached; everything is computed in log space from
log_softmax, so logits of ±100 give finite values and gradients (METHOD.md §1.5); batch mean.

The α losses return the reference's surrogate S = −Σ sg(q·ρ) log q (METHOD.md §1.3), whose gradient with respect to the
student logits is −(c − q·Σc)/B with c = q·ρ: here that falls out of autograd because c is detached.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F

ALPHA_BRANCH_TOLERANCE = 1e-3


def _check_pair(student: torch.Tensor, teacher: torch.Tensor, fn: str) -> None:
    if student.dim() != 2 or teacher.dim() != 2:
        raise ValueError(f"{fn}: logits must be [batch, classes]; got student {list(student.shape)} and teacher {list(teacher.shape)}")
    if student.shape != teacher.shape:
        raise ValueError(f"{fn}: student {list(student.shape)} and teacher {list(teacher.shape)} differ in shape")
    if student.shape[0] == 0:
        raise ValueError(f"{fn}: empty batch")


def _check_clip(clip: float, fn: str) -> None:
    if not clip > 0:
        raise ValueError(f"{fn}: clip (β) must be > 0, got {clip}")


def _alpha_terms(logq, q, p, logr, alpha: float, log_beta: float):
    """Per-sample clipped D_α [B] and c = q·ρ [B, K] (detached), the three branches of METHOD.md §1.2."""
    if abs(alpha) < ALPHA_BRANCH_TOLERANCE:
        logrc = torch.clamp(logr, max=log_beta)
        return -(q * logrc).sum(1), q * (logrc - 1)
    if abs(alpha - 1) < ALPHA_BRANCH_TOLERANCE:
        return (p * logr).sum(1), p
    k = 1.0 / (alpha * (alpha - 1))
    t = torch.clamp(logr * alpha, max=log_beta)
    div = (q * torch.expm1(t)).sum(1) * k
    c = q * (torch.exp(t) / alpha + k)
    return div, c


def _log_probs(student, teacher):
    logq = F.log_softmax(student, dim=1)
    logp = F.log_softmax(teacher.detach(), dim=1)
    return logq, logq.detach().exp(), logp.exp(), logp - logq.detach()


def adaptive_alpha_divergence_with_stats(student, teacher, alpha_min=-1.0, alpha_max=1.0, clip=5.0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """AlphaNet's adaptive loss (METHOD.md §1.4): per sample the surrogate of α₋ where the clipped D_{α₋} is strictly
    greater than D_{α₊} (ties go to α₊), else α₊'s; batch mean. Returns (loss, share of samples using α₋, mean
    selected divergence); only the loss is differentiable."""
    fn = "adaptive_alpha_divergence"
    _check_pair(student, teacher, fn)
    _check_clip(clip, fn)
    logq, q, p, logr = _log_probs(student, teacher)
    log_beta = math.log(clip)
    with torch.no_grad():
        d_lo, c_lo = _alpha_terms(logq.detach(), q, p, logr, alpha_min, log_beta)
        d_hi, c_hi = _alpha_terms(logq.detach(), q, p, logr, alpha_max, log_beta)
        sel = d_lo > d_hi
        c = torch.where(sel.unsqueeze(1), c_lo, c_hi)
        div = torch.where(sel, d_lo, d_hi)
    loss = (-(c * logq).sum(1)).mean()
    return loss, sel.float().mean(), div.mean()


def adaptive_alpha_divergence(student, teacher, alpha_min=-1.0, alpha_max=1.0, clip=5.0) -> torch.Tensor:
    return adaptive_alpha_divergence_with_stats(student, teacher, alpha_min, alpha_max, clip)[0]


def adaptive_alpha_divergence_detail(student, teacher, alpha_min=-1.0, alpha_max=1.0, clip=5.0) -> dict:
    """Per-sample values as plain lists (tests, diagnostics), like `adaptiveAlphaDivergenceDetail`."""
    with torch.no_grad():
        logq, q, p, logr = _log_probs(student, teacher)
        log_beta = math.log(clip)
        d_lo, c_lo = _alpha_terms(logq, q, p, logr, alpha_min, log_beta)
        d_hi, c_hi = _alpha_terms(logq, q, p, logr, alpha_max, log_beta)
        sel = d_lo > d_hi
        c = torch.where(sel.unsqueeze(1), c_lo, c_hi)
        s = -(c * logq).sum(1)
        div = torch.where(sel, d_lo, d_hi)
    return {
        "lossMean": float(s.double().mean()), "lossPerSample": s.tolist(), "divAlphaMin": d_lo.tolist(),
        "divAlphaMax": d_hi.tolist(), "selectAlphaMin": sel.tolist(), "selectedDivergenceMean": float(div.double().mean()),
        "alphaMinShare": float(sel.float().mean()),
    }


def alpha_divergence_with_stats(student, teacher, alpha: float, clip: float = 5.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """The fixed-α surrogate (METHOD.md §1.2–1.3), batch mean, and the batch-mean clipped D_α it drives down (detached),
    from one evaluation of the α terms; |α| < 1e-3 and |α−1| < 1e-3 take the limit branches."""
    _check_pair(student, teacher, "alpha_divergence")
    _check_clip(clip, "alpha_divergence")
    logq, q, p, logr = _log_probs(student, teacher)
    with torch.no_grad():
        div, c = _alpha_terms(logq.detach(), q, p, logr, alpha, math.log(clip))
    return (-(c * logq).sum(1)).mean(), div.mean()


def alpha_divergence(student, teacher, alpha: float, clip: float = 5.0) -> torch.Tensor:
    """The fixed-α surrogate alone (see `alpha_divergence_with_stats`)."""
    return alpha_divergence_with_stats(student, teacher, alpha, clip)[0]


def alpha_divergence_detail(student, teacher, alpha: float, clip: float = 5.0) -> dict:
    with torch.no_grad():
        logq, q, p, logr = _log_probs(student, teacher)
        div, c = _alpha_terms(logq, q, p, logr, alpha, math.log(clip))
        s = -(c * logq).sum(1)
    return {"surrogateMean": float(s.double().mean()), "surrogatePerSample": s.tolist(), "divergencePerSample": div.tolist(),
            "divergenceMean": float(div.double().mean())}


def soft_cross_entropy(student, teacher) -> torch.Tensor:
    """AttentiveNAS KD (`KLLossSoft`, T = 1): batch mean of −Σ p log q; gradient (q − p)/B; teacher detached."""
    _check_pair(student, teacher, "soft_cross_entropy")
    p = F.softmax(teacher.detach(), dim=1)
    return (-(p * F.log_softmax(student, dim=1)).sum(1)).mean()


def kl_divergence(student, teacher) -> torch.Tensor:
    """KL(p‖q) = Σ p (log p − log q), batch mean, both logs from log_softmax (p = 0 contributes 0)."""
    _check_pair(student, teacher, "kl_divergence")
    logp = F.log_softmax(teacher.detach(), dim=1)
    return (logp.exp() * (logp - F.log_softmax(student, dim=1))).sum(1).mean()


def label_smoothed_cross_entropy(logits, labels, num_classes: int, epsilon: float = 0.1) -> torch.Tensor:
    """The max subnet's loss (AN `CrossEntropyLossSmooth`): batch mean of −Σ t log_softmax(z), t = one_hot·(1−ε) + ε/K."""
    fn = "label_smoothed_cross_entropy"
    if logits.dim() != 2:
        raise ValueError(f"{fn}: logits must be [batch, classes], got {list(logits.shape)}")
    if logits.shape[1] != num_classes:
        raise ValueError(f"{fn}: logits have {logits.shape[1]} classes but num_classes is {num_classes}")
    if not 0 <= epsilon <= 1:
        raise ValueError(f"{fn}: epsilon must be in [0, 1], got {epsilon}")
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"{fn}: {labels.shape[0]} labels for a batch of {logits.shape[0]}")
    target = F.one_hot(labels.long(), num_classes).to(logits.dtype) * (1 - epsilon) + epsilon / num_classes
    return (-(target * F.log_softmax(logits, dim=1)).sum(1)).mean()


def distillation_loss(student, teacher, labels, num_classes: int, distillation: dict, label_smoothing: float):
    """The loss of a non-max sandwich member by the run's `distillation` config; returns (loss, share, divergence)."""
    kind = distillation["kind"]
    if kind == "adaptive-alpha":
        return adaptive_alpha_divergence_with_stats(student, teacher, distillation.get("alphaMin", -1.0),
                                                    distillation.get("alphaMax", 1.0), distillation.get("clip", 5.0))
    # KL and fixed α log the divergence they drive down (as the TF.js engine does), not their training value.
    if kind == "kl":
        with torch.no_grad():
            div = kl_divergence(student, teacher)
        return soft_cross_entropy(student, teacher), None, div
    if kind == "alpha":
        loss, div = alpha_divergence_with_stats(student, teacher, distillation["alpha"], distillation.get("clip", 5.0))
        return loss, None, div
    if kind == "none":
        return label_smoothed_cross_entropy(student, labels, num_classes, label_smoothing), None, None
    raise ValueError(f"distillation.kind: unknown '{kind}'")
