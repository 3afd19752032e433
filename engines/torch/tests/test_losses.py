"""The losses against test/fixtures/alpha-div-vectors.json (float64 values of an independent numpy implementation of
AlphaNet's loss_ops.py), with the TypeScript tests' tolerance (test/unit/engine/losses.test.ts): float32 inputs,
|actual − expected| ≤ max(1e-5·|expected|, 1e-6). Gradients the fixture does not hold are checked against central
finite differences in float64."""
import json
import os

import pytest
import torch

from conftest import FIXTURES
from alphanet_torch import losses as L

REL, ABS = 1e-5, 1e-6
CASES = json.load(open(os.path.join(FIXTURES, "alpha-div-vectors.json")))["cases"]


def close(actual, expected, what):
    a = torch.as_tensor(actual, dtype=torch.float64).flatten()
    e = torch.as_tensor(expected, dtype=torch.float64).flatten()
    assert a.shape == e.shape, what
    assert torch.isfinite(a).all(), what
    ratio = ((a - e).abs() / torch.clamp(REL * e.abs(), min=ABS)).max().item()
    assert ratio <= 1, f"{what}: worst error is {ratio:.3f}x the tolerance"


def tensors(c, dtype=torch.float32):
    s = torch.tensor(c["student_logits"], dtype=dtype, requires_grad=True)
    t = torch.tensor(c["teacher_logits"], dtype=dtype, requires_grad=True)
    return s, t


def test_fixture_layout():
    assert len(CASES) >= 7
    for c in CASES:
        assert len(c["student_logits"]) == 4 and len(c["student_logits"][0]) == 10


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_adaptive_values_selection_and_gradient(c):
    E = c["expected"]
    s, t = tensors(c)
    d = L.adaptive_alpha_divergence_detail(s, t, c["alpha_min"], c["alpha_max"], c["iw_clip"])
    close(d["lossMean"], E["adaptive_loss_mean"], "adaptive_loss_mean")
    close(d["lossPerSample"], E["adaptive_loss_per_sample"], "adaptive_loss_per_sample")
    close(d["divAlphaMin"], E["div_alpha_min_per_sample"], "div_alpha_min_per_sample")
    close(d["divAlphaMax"], E["div_alpha_max_per_sample"], "div_alpha_max_per_sample")
    assert d["selectAlphaMin"] == E["select_alpha_min"]
    close(d["selectedDivergenceMean"], E["selected_divergence_mean"], "selected_divergence_mean")
    loss, share, div = L.adaptive_alpha_divergence_with_stats(s, t, c["alpha_min"], c["alpha_max"], c["iw_clip"])
    close(loss.item(), E["adaptive_loss_mean"], "loss")
    assert share.item() == pytest.approx(sum(E["select_alpha_min"]) / 4, abs=1e-7)
    close(div.item(), E["selected_divergence_mean"], "selected divergence")
    loss.backward()
    close(s.grad, E["grad_student_logits"], "grad_student_logits")
    assert t.grad is None, "the teacher is detached"


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_fixed_alpha_kl_and_soft_ce(c):
    E = c["expected"]
    s, t = tensors(c)
    lo = L.alpha_divergence_detail(s, t, c["alpha_min"], c["iw_clip"])
    hi = L.alpha_divergence_detail(s, t, c["alpha_max"], c["iw_clip"])
    close(lo["divergencePerSample"], E["div_alpha_min_per_sample"], "fixed α₋ divergence")
    close(hi["divergencePerSample"], E["div_alpha_max_per_sample"], "fixed α₊ divergence")
    picked = [(lo if m else hi)["surrogatePerSample"][i] for i, m in enumerate(E["select_alpha_min"])]
    close(picked, E["adaptive_loss_per_sample"], "selected fixed-α surrogate")
    close(L.kl_divergence(s, t).item(), E["kl_teacher_student_mean"], "kl mean")
    close(L.alpha_divergence_detail(s, t, 1.0)["divergencePerSample"], E["kl_teacher_student_per_sample"], "kl per sample")
    close(L.soft_cross_entropy(s, t).item(), E["ce_teacher_student_mean"], "soft CE")
    close(L.alpha_divergence(s, t, 1.0).item(), E["ce_teacher_student_mean"], "alpha = 1 surrogate")
    for f in (L.kl_divergence, L.soft_cross_entropy):
        s.grad = None
        f(s, t).backward()
        close(s.grad, E["grad_kl_mean_student_logits"], f"grad {f.__name__}")
    assert t.grad is None


def fd_grad(f, x, h=1e-5):
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        fp = f(x).item()
        flat[i] = old - h
        fm = f(x).item()
        flat[i] = old
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def test_gradients_against_finite_differences():
    """Label-smoothed CE, KL and, with no clipping (β = ∞), the α losses whose surrogate gradient then is exactly the
    gradient of the mean divergence (METHOD.md §1.3), in float64."""
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(5, 7, generator=gen, dtype=torch.float64) * 2
    t = torch.randn(5, 7, generator=gen, dtype=torch.float64) * 2
    labels = torch.tensor([0, 3, 6, 2, 2])
    checks = {
        "label-smoothed CE": (lambda x: L.label_smoothed_cross_entropy(x, labels, 7, 0.1), None),
        "KL": (lambda x: L.kl_divergence(x, t), None),
        "alpha -1 (∞ clip)": (lambda x: L.alpha_divergence(x, t, -1.0, float("inf")),
                              lambda x: torch.tensor(L.alpha_divergence_detail(x, t, -1.0, float("inf"))["divergenceMean"], dtype=torch.float64)),
        "alpha 0.5 (∞ clip)": (lambda x: L.alpha_divergence(x, t, 0.5, float("inf")),
                               lambda x: torch.tensor(L.alpha_divergence_detail(x, t, 0.5, float("inf"))["divergenceMean"], dtype=torch.float64)),
        "alpha 0 (∞ clip)": (lambda x: L.alpha_divergence(x, t, 0.0, float("inf")),
                             lambda x: torch.tensor(L.alpha_divergence_detail(x, t, 0.0, float("inf"))["divergenceMean"], dtype=torch.float64)),
    }
    for what, (loss, value) in checks.items():
        x = s.clone().requires_grad_(True)
        loss(x).backward()
        fd = fd_grad(value or loss, s.clone())
        err = (x.grad - fd).abs().max().item()
        assert err < 1e-7, f"{what}: |autograd − FD| = {err}"


def test_label_smoothing_by_hand_and_bad_input():
    # −[(0.9 + 0.05) log σ(2)_0 + 0.05 log σ(2)_1] for logits [2, 0], ε = 0.1, K = 2.
    logits = torch.tensor([[2.0, 0.0]])
    import math
    lq0 = 2 - math.log(math.exp(2) + 1)
    lq1 = -math.log(math.exp(2) + 1)
    want = -(0.95 * lq0 + 0.05 * lq1)
    assert L.label_smoothed_cross_entropy(logits, torch.tensor([0]), 2, 0.1).item() == pytest.approx(want, rel=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        L.soft_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="clip"):
        L.alpha_divergence(torch.zeros(2, 3), torch.zeros(2, 3), 0.5, 0.0)


def test_extreme_logits_stay_finite():
    s = torch.tensor([[100.0, -100.0, 0.0]], requires_grad=True)
    t = torch.tensor([[-100.0, 100.0, 0.0]])
    loss = L.adaptive_alpha_divergence(s, t)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize("c", CASES[:4], ids=lambda c: c["name"])
def test_distillation_loss_logs_the_divergence_it_drives_down(c):
    """Every distillation kind returns the divergence the run page plots (as the TF.js engine's sandwich step): the
    selected D for adaptive α, KL(p‖q) for KL (not the soft cross-entropy it trains on), the clipped D_α for fixed α."""
    s, t = tensors(c)
    y = torch.zeros(s.shape[0], dtype=torch.long)
    k = s.shape[1]
    loss, share, div = L.distillation_loss(s, t, y, k, {"kind": "kl"}, 0.1)
    assert share is None
    close(float(div), float(L.kl_divergence(s, t)), "kl divergence")
    assert float(div) >= 0 and abs(float(loss) - float(div)) > 1e-6  # the soft CE differs from KL by the teacher's entropy
    for alpha in (-1.0, 0.5, 1.0):
        loss, _, div = L.distillation_loss(s, t, y, k, {"kind": "alpha", "alpha": alpha, "clip": 5.0}, 0.1)
        close(float(div), L.alpha_divergence_detail(s, t, alpha, 5.0)["divergenceMean"], f"alpha {alpha} divergence")
    loss, share, div = L.distillation_loss(s, t, y, k, {"kind": "adaptive-alpha"}, 0.1)
    close(float(div), L.adaptive_alpha_divergence_detail(s, t)["selectedDivergenceMean"], "adaptive selected divergence")
    assert L.distillation_loss(s, t, y, k, {"kind": "none"}, 0.1)[2] is None
