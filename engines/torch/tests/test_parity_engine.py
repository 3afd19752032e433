"""The same subnet with the same weights gives the same logits in both engines.

The weights are the torch supernet's, randomised (BN γ and β too, so no residual branch is silenced by its zero-init
γ), written as a workbench checkpoint (ANCKPT01) and read back by the workbench's own engine through
`alphanet forward`. Checked: max |Δ logits| ≤ 1e-4 with batch statistics (training mode) and with BN statistics
recalibrated on the same batches (eval mode), for max, min and random subnets, at the data's resolution and resized;
the BN-calibrated top-1 on a small labelled split is the same; and the checkpoint converts both ways bit-exactly.
"""
import json
import random

import numpy as np
import pytest
import torch

from conftest import SLOW
from workbench import cli
from alphanet_torch import checkpoint as C
from alphanet_torch import spaces as S
from alphanet_torch.supernet import Regularize, Supernet, calibrate_bn


def randomised(space_id, seed=1, num_classes=None):
    space = S.get_space(space_id)
    net = Supernet(space, num_classes=num_classes, seed=seed)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, p in net.p.items():
            if name.endswith(".bn.gamma"):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif name.endswith(".bn.beta"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    return space, net


def write_raw(path, nchw):
    path.write_bytes(np.ascontiguousarray(nchw.permute(0, 2, 3, 1).numpy(), dtype="<f4").tobytes())


def request(tmp_path, space, genome, ckpt, x, calib=None, tag="a", num_classes=None):
    """One `alphanet forward` request for x [N, C, H, W] (and calibration batches), inputs written as raw NHWC."""
    write_raw(tmp_path / f"x-{tag}.f32", x)
    req = {"space": space["id"], "arch": genome, "weights": str(ckpt), "out": str(tmp_path / f"logits-{tag}.f32"),
           "input": {"path": str(tmp_path / f"x-{tag}.f32"), "shape": [x.shape[0], x.shape[2], x.shape[3], x.shape[1]]}}
    if num_classes:
        req["numClasses"] = num_classes
    if calib is not None:
        c = torch.stack(calib)  # [B, N, C, H, W]
        (tmp_path / f"c-{tag}.f32").write_bytes(np.ascontiguousarray(c.permute(0, 1, 3, 4, 2).numpy(), dtype="<f4").tobytes())
        req["calibration"] = {"path": str(tmp_path / f"c-{tag}.f32"), "shape": [c.shape[0], c.shape[1], c.shape[3], c.shape[4], c.shape[2]]}
    return req


def ts_logits(tmp_path, requests):
    """The workbench engine's logits for a list of requests, in one CLI call."""
    (tmp_path / "requests.json").write_text(json.dumps(requests))
    outs = cli("forward", str(tmp_path / "requests.json"))
    return [torch.from_numpy(np.fromfile(o["out"], dtype="<f4").reshape(o["shape"])) for o in outs]


def test_checkpoint_converts_both_ways(tmp_path):
    space, net = randomised("alphanet-cifar32")
    path = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(path), state={"step": 0, "epoch": 0, "batch": 0}, config={"space": space["id"]})
    header, weights, momentum = C.read(str(path))
    # Workbench layouts: NHWC conv [k,k,in,out], depthwise [k,k,c,1], pointwise/linear [in,out].
    assert list(weights["first.conv.w"].shape) == [3, 3, 3, 24]
    assert list(weights["blocks.0.dw.w"].shape)[3] == 1 and weights["blocks.0.dw.w"].shape[0] == 5
    assert list(weights["classifier.w"].shape) == [640, 10]
    back = Supernet(space, seed=7)
    C.load_workbench_weights(back, str(path))
    for name, p in net.p.items():
        assert torch.equal(back.p[name], p), name
    # torch → workbench → torch is the identity on every layout.
    for name, p in net.p.items():
        a = p.detach().numpy()
        assert np.array_equal(C.to_torch(name, C.from_torch(name, a)), a), name
    # A damaged file is refused with one line naming it.
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "bad.ckpt").write_bytes(bytes(data))
    with pytest.raises(C.CheckpointError, match="failed its hash check"):
        C.read(str(tmp_path / "bad.ckpt"))


@pytest.mark.workbench
@pytest.mark.parametrize("space_id", ["alphanet-cifar32", "alphanet-mnist28", "slimmable-cifar32"])
def test_same_logits_in_both_engines(space_id, tmp_path):
    space, net = randomised(space_id, seed=3)
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    rng = random.Random(5)
    res = space["resolutions"][-1]
    gen = torch.Generator().manual_seed(11)
    genomes = [S.max_genome(space), S.min_genome(space)] + [S.random_genome(space, rng) for _ in range(2)]
    reqs, want = [], []
    for i, g in enumerate(genomes):
        # The last genome runs on inputs of another size: both engines resize (bilinear, half-pixel centres).
        size = res if i < len(genomes) - 1 else res + 4
        x = torch.randn(4, space["inputChannels"], size, size, generator=gen)
        calib = [torch.randn(8, space["inputChannels"], size, size, generator=gen) for _ in range(2)]
        with torch.no_grad():
            want += [net(x, g), net(x, g, bn_stats=calibrate_bn(net, g, calib))]
        reqs += [request(tmp_path, space, g, ckpt, x, tag=f"b{i}"), request(tmp_path, space, g, ckpt, x, calib=calib, tag=f"c{i}")]
    got = ts_logits(tmp_path, reqs)
    for i, (a, b) in enumerate(zip(got, want)):
        d = (a - b).abs().max().item()
        mode = "calibrated" if i % 2 else "batch-statistics"
        assert d <= 1e-4, f"{S.canonical_genome_json(genomes[i // 2])} ({mode}): max |Δ logits| {d:.2e}"
        assert b.abs().max().item() > 1e-2, "logits must not be trivially zero"


@pytest.mark.workbench
def test_same_calibrated_accuracy_on_a_small_split(tmp_path):
    """A supernet briefly trained on a separable toy split, so its accuracy is far from chance; both engines
    recalibrate BN on the same batches and classify the same 96 held-out images identically."""
    space, net = randomised("alphanet-cifar32", seed=4, num_classes=3)
    gen = torch.Generator().manual_seed(2)
    protos = torch.randn(3, 3, 1, 1, generator=gen)

    def split(n):
        y = torch.randint(0, 3, (n,), generator=gen)
        return protos[y] + 0.8 * torch.randn(n, 3, 32, 32, generator=gen), y

    g = S.random_genome(space, random.Random(9))
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(6):
        x, y = split(32)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x, g), y).backward()
        opt.step()
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    calib = [split(32)[0] for _ in range(2)]
    xv, yv = split(96)
    with torch.no_grad():
        want = net(xv, g, bn_stats=calibrate_bn(net, g, calib))
    [got] = ts_logits(tmp_path, [request(tmp_path, space, g, ckpt, xv, calib=calib, tag="acc", num_classes=3)])
    acc_t = (want.argmax(1) == yv).float().mean().item()
    acc_w = (got.argmax(1) == yv).float().mean().item()
    assert acc_t > 0.5, f"the toy net should learn the split (top-1 {acc_t:.2f})"
    assert acc_t == acc_w, f"top-1 torch {acc_t:.4f}, workbench {acc_w:.4f}"
    assert (got - want).abs().max().item() <= 1e-4


@pytest.mark.skipif(not SLOW, reason="ALPHANET_SLOW_TESTS=1: the paper's 224×224 space (a 60 MB checkpoint)")
@pytest.mark.workbench
def test_same_logits_imagenet_space(tmp_path):
    space, net = randomised("alphanet-imagenet", seed=2)
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    reqs, want = [], []
    for name in ("alphanet-a0", "min"):
        g = S.resolve_genome(space, name)
        x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            want.append(net(x, g))
        reqs.append(request(tmp_path, space, g, ckpt, x, tag=name))
    for a, b in zip(ts_logits(tmp_path, reqs), want):
        assert (a - b).abs().max().item() <= 1e-4


@pytest.mark.workbench
@pytest.mark.parametrize("distillation", [{"kind": "kl"}, {"kind": "adaptive-alpha", "alphaMin": -1.0, "alphaMax": 1.0, "clip": 5.0},
                                          {"kind": "alpha", "alpha": -1.0, "clip": 5.0}, {"kind": "none"}],
                         ids=lambda d: d["kind"] + str(d.get("alpha", "")))
def test_same_training_step_gradients_in_both_engines(distillation, tmp_path):
    """One training step's forward and backward — the teacher on the labels, the students distilled from it, gradients
    summed over members — gives the same gradient for every parameter in both engines. Logit parity (above) covers
    the forward only; this covers the losses' gradients, autograd through the shared slices, and the accumulation.
    Tolerance: 1e-4 of the largest entry of each parameter's gradient, plus 1e-6 (float32 sums in another order)."""
    space, net = randomised("alphanet-cifar32", seed=4)
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    gen = torch.Generator().manual_seed(13)
    res = space["resolutions"][-1]
    x = torch.randn(8, space["inputChannels"], res, res, generator=gen)
    y = torch.randint(0, space["numClasses"], (8,), generator=gen)
    members = [S.max_genome(space), S.random_genome(space, random.Random(3)), S.min_genome(space)]
    cfg = {"labelSmoothing": 0.1, "distillation": distillation}
    from alphanet_torch.train import sandwich_backward
    for p in net.p.values():
        p.grad = None
    want = sandwich_backward(net, space["numClasses"], x, y, [{"role": "r", "genome": g} for g in members], cfg, None)
    req = request(tmp_path, space, "max", ckpt, x)
    req["sandwich"] = {"labels": y.tolist(), "members": members, "distillation": cfg["distillation"],
                       "labelSmoothing": 0.1, "out": str(tmp_path / "grads.f32")}
    (tmp_path / "requests.json").write_text(json.dumps(req))
    got = cli("forward", str(tmp_path / "requests.json"))["sandwich"]
    for a, b in zip(got["members"], want):
        assert abs(a["loss"] - b["loss"]) <= 1e-5 * max(1.0, abs(b["loss"])), (a, b)
    flat = np.fromfile(got["out"], dtype="<f4")
    at, seen = 0, set()
    for g in got["grads"]:
        n = int(np.prod(g["shape"]))
        ts = torch.from_numpy(C.to_torch(g["name"], flat[at:at + n].reshape(g["shape"])))
        at += n
        seen.add(g["name"])
        ref = net.p[g["name"]].grad
        assert ref is not None and tuple(ts.shape) == tuple(ref.shape), g["name"]
        tol = 1e-4 * ref.abs().max().item() + 1e-6
        d = (ts - ref).abs().max().item()
        assert d <= tol, f"{g['name']}: max |Δ grad| {d:.3e} > {tol:.3e}"
    assert at == flat.size
    # Every parameter some member uses has a gradient in both engines, and no other.
    assert seen == {n for n, p in net.p.items() if p.grad is not None}
    assert max(net.p[n].grad.abs().max().item() for n in seen) > 1e-3, "gradients must not be trivially zero"


class RecordedMasks(Regularize):
    """The teacher's regularisation with masks from a seeded generator, each one kept (flattened, as 0/1 ints) in the
    order the forward drew it: what `alphanet forward`'s `train` takes as a step's `masks`."""

    def __init__(self, dropout, drop_connect, generator):
        super().__init__(dropout, drop_connect, generator)
        self.drawn = []

    def keep_mask(self, shape, keep, device):
        m = super().keep_mask(shape, keep, device)
        self.drawn.append([int(v) for v in m.flatten().tolist()])
        return m


AA = {"kind": "adaptive-alpha", "alphaMin": -1.0, "alphaMax": 1.0, "clip": 5.0}


@pytest.mark.workbench
@pytest.mark.parametrize("distillation,rates", [({"kind": "kl"}, None), (AA, None), ({"kind": "alpha", "alpha": -1.0, "clip": 5.0}, None),
                                                (AA, (0.5, 0.5))],
                         ids=["kl", "adaptive-alpha", "alpha-1.0", "adaptive-alpha-dropout"])
def test_same_weights_after_training_steps_in_both_engines(distillation, rates, tmp_path):
    """Several training steps replayed in both engines — the same batches, members and learning rates from the same
    weights — end at the same weights: the step above, then clipping by value, weight decay with the no-decay rule,
    Nesterov momentum over steps whose members use different blocks, the update. What the engines' runs share
    besides is only the method; their random streams differ (docs/TORCH.md), so this is what says a difference
    between their results is not the engines' arithmetic. The weight decay (0.05) and clip (0.02) are far above the
    defaults so that both act on many entries. With `rates` (dropout, drop-connect; 0.5 each so that many entries
    drop) the teacher is regularised as in a run, both engines given the masks this engine drew: which blocks drop,
    at what keep probability, and the 1/keep scaling must agree too.
    Tolerance: each parameter's change from the start agrees within 1e-3 of its largest entry, plus 1e-6; every
    member's loss within 1e-4 (adaptive α: its selected divergence, within 1e-3 plus 1e-6)."""
    from alphanet_torch.optim import NesterovSgd
    from alphanet_torch.train import sandwich_backward
    space, net = randomised("alphanet-cifar32", seed=4)
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    start = {n: p.detach().clone() for n, p in net.p.items()}
    gen = torch.Generator().manual_seed(21)
    pick = random.Random(5)
    res = space["resolutions"][-1]
    cfg = {"labelSmoothing": 0.1, "distillation": distillation}
    opt = NesterovSgd(net.p, 0.9, True, 0.05)
    steps, want_losses = [], []
    for k in range(6):
        x = torch.randn(8, space["inputChannels"], res, res, generator=gen)
        y = torch.randint(0, space["numClasses"], (8,), generator=gen)
        members = [S.max_genome(space), S.random_genome(space, pick), S.random_genome(space, pick), S.min_genome(space)]
        lr = 0.2 * (k + 1) / 6
        write_raw(tmp_path / f"step-{k}.f32", x)
        steps.append({"input": {"path": str(tmp_path / f"step-{k}.f32"), "shape": [8, res, res, space["inputChannels"]]},
                      "labels": y.tolist(), "members": members, "lr": lr})
        opt.zero_grad()
        reg = RecordedMasks(rates[0], rates[1], torch.Generator().manual_seed(40 + k)) if rates else None
        out = sandwich_backward(net, space["numClasses"], x, y, [{"role": "r", "genome": g} for g in members], cfg, reg)
        if reg:
            steps[-1]["masks"] = reg.drawn
        opt.step(lr, 0.02)
        want_losses.append(out)
    if rates:
        # Drop-connect's masks (one value per image) and dropout's (one row per image) both drop something.
        drawn = [m for s in steps for m in s["masks"]]
        assert any(len(m) == 8 and 0 in m for m in drawn) and any(len(m) > 8 and 0 in m for m in drawn)
    req = request(tmp_path, space, "max", ckpt, torch.randn(2, space["inputChannels"], res, res, generator=gen))
    req["train"] = {"steps": steps, "distillation": distillation, "labelSmoothing": 0.1, "clip": 0.02, "momentum": 0.9,
                    "nesterov": True, "weightDecay": 0.05, "out": str(tmp_path / "trained.f32")}
    if rates:
        req["train"]["regularize"] = {"dropout": rates[0], "dropConnect": rates[1]}
    (tmp_path / "requests.json").write_text(json.dumps(req))
    got = cli("forward", str(tmp_path / "requests.json"))["train"]
    for k, (a, b) in enumerate(zip(got["steps"], want_losses)):
        for m, w in zip(a["members"], b):
            # Adaptive α picks per image the larger of two divergences; where they are equal to float precision (here
            # one image of step 0's min subnet) the engines may pick differently. The selected divergence is continuous
            # there (the weights are compared below); the surrogate jumps.
            if w["div"] is not None and distillation["kind"] == "adaptive-alpha":
                assert abs(m["divergence"] - w["div"]) <= 1e-3 * abs(w["div"]) + 1e-6, (k, m, w)
            else:
                assert abs(m["loss"] - w["loss"]) <= 1e-4 * max(1.0, abs(w["loss"])), (k, m, w)
    flat = np.fromfile(got["out"], dtype="<f4")
    at = 0
    for g in got["weights"]:
        n = int(np.prod(g["shape"]))
        ts = torch.from_numpy(C.to_torch(g["name"], flat[at:at + n].reshape(g["shape"])))
        at += n
        moved_ts, moved = ts - start[g["name"]], net.p[g["name"]].detach() - start[g["name"]]
        tol = 1e-3 * moved.abs().max().item() + 1e-6
        d = (moved_ts - moved).abs().max().item()
        assert d <= tol, f"{g['name']}: max |Δ| {d:.3e} > {tol:.3e} (moved up to {moved.abs().max().item():.3e})"
    assert at == flat.size and {g["name"] for g in got["weights"]} == set(net.p)
    assert max((net.p[n].detach() - start[n]).abs().max().item() for n in net.p) > 1e-2, "the steps must move the weights"


@pytest.mark.workbench
def test_a_bad_training_replay_gets_one_line(tmp_path):
    """`alphanet forward`'s `train` names the field at fault and exits non-zero."""
    from workbench import run_cli
    space, net = randomised("alphanet-cifar32", seed=4)
    ckpt = tmp_path / "w.ckpt"
    C.save_workbench_weights(net, str(ckpt), state={"step": 0, "epoch": 0, "batch": 0}, config={})
    res = space["resolutions"][-1]
    x = torch.zeros(2, space["inputChannels"], res, res)
    c_last = net.plan(S.max_genome(space))["head"]["cLast"]
    step = {"input": {"path": str(tmp_path / "x-a.f32"), "shape": [2, res, res, space["inputChannels"]]}, "labels": [0, 1],
            "members": ["max", "min"], "lr": 0.1}
    cases = [({"steps": []}, "train.steps: expected at least one step"),
             ({"steps": [{**step, "lr": -1}]}, "train.steps[0].lr: expected a number ≥ 0"),
             ({"steps": [{**step, "labels": [0]}]}, "train.steps[0].labels: 1 labels for 2 images"),
             ({"steps": [{**step, "members": ["max"]}]}, "train.steps[0].members: expected the teacher and at least one student"),
             ({"steps": [step], "distillation": {"kind": "bogus"}}, "train.distillation: "),
             ({"steps": [step], "clip": "1"}, "train.clip: expected a number ≥ 0"),
             ({"steps": [step], "regularize": {"dropout": 1, "dropConnect": 0.2}}, "train.regularize.dropout: expected a number in [0, 1)"),
             ({"steps": [step], "regularize": {"dropout": 0.2, "dropConnect": 0.2}},
              "train.steps[0].masks: expected the teacher's keep masks (train.regularize is on)"),
             ({"steps": [{**step, "masks": []}]}, "train.steps[0].masks: given without train.regularize"),
             ({"steps": [{**step, "masks": [[1, 2]]}], "regularize": {"dropout": 0.2, "dropConnect": 0}},
              "train.steps[0].masks[0]: expected "),
             ({"steps": [{**step, "masks": []}], "regularize": {"dropout": 0.2, "dropConnect": 0}},
              "train.steps[0].masks: the forward needs more than the 0 given"),
             ({"steps": [{**step, "masks": [[1] * 2 * c_last, [1, 1]]}], "regularize": {"dropout": 0.2, "dropConnect": 0}},
              "train.steps[0].masks: 2 given, the forward used 1"),
             ({"steps": [{**step, "input": {"path": str(tmp_path / "none.f32"), "shape": [2, res, res, 3]}}]},
              "cannot read train.steps[0].input")]
    for train, message in cases:
        req = request(tmp_path, space, "max", ckpt, x)
        req["train"] = {"distillation": {"kind": "kl"}, "out": str(tmp_path / "t.f32"), **train}
        (tmp_path / "requests.json").write_text(json.dumps(req))
        r = run_cli("forward", str(tmp_path / "requests.json"))
        assert r.returncode != 0 and message in r.stderr, (message, r.stderr)
