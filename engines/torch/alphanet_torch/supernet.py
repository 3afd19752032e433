"""The weight-sharing supernet in PyTorch, as `src-main/engine/supernet.ts` (docs/METHOD.md §3.2–3.4).

Every weight is allocated once at its maximum size (`supernet_shape`); a subnet's forward takes the first channels of
each tensor and the centre k×k crop of the depthwise kernels, so autograd sends gradients exactly to those slices.
The shapes come from `subnet_plan`, the plan the FLOPs counter reads.

Parameter names are the workbench's (`first.conv.w`, `blocks.3.dw.w`, `blocks.3.project.bn.gamma`, `classifier.b`,
…): `state_dict()` keys equal the names in a workbench checkpoint. Layouts are PyTorch's: a conv weight is
[out, in/groups, k, k] (pointwise and SE convs [out, in, 1, 1]), the classifier [out, in]; checkpoint.py converts to
and from the workbench's NHWC layouts.

Batch norm: in training every BN normalises with the batch statistics of its sliced channels and keeps no running
statistics (the reference's DynamicBatchNorm2d, momentum 0). Under DistributedDataParallel each rank therefore uses
its own batch's statistics, as the reference does per GPU. Evaluation passes per-subnet calibrated statistics
(`calibrate_bn`).
"""
import math
from typing import Callable, Dict, Iterable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .spaces import canonical_genome_json, subnet_plan, supernet_shape, validate_genome


def is_no_decay_param(name: str) -> bool:
    """BN parameters and biases get no weight decay (METHOD.md §2.1), the same rule as `isNoDecayParam`."""
    return ".bn." in name or name.endswith(".b")


class _Node(nn.Module):
    """A plain container, so that parameter paths (and state_dict keys) are the workbench's dotted names."""


def hsigmoid(x):
    return F.relu6(x + 3.0) / 6.0


class Regularize:
    """Dropout and drop-connect of the max subnet (METHOD.md §2.2) with masks drawn from `generator`, so a run repeats
    and a test can replay each rank's masks."""

    def __init__(self, dropout: float, drop_connect: float, generator: torch.Generator):
        self.dropout = dropout
        self.drop_connect = drop_connect
        self.generator = generator

    def keep_mask(self, shape, keep: float, device) -> torch.Tensor:
        u = torch.rand(shape, generator=self.generator, dtype=torch.float32).to(device)
        return torch.floor(u + keep)


class Supernet(nn.Module):
    def __init__(self, space: dict, num_classes: Optional[int] = None, seed: int = 0):
        super().__init__()
        self.space = space
        self.num_classes = num_classes or space["numClasses"]
        self.shape = supernet_shape(space, self.num_classes)
        self.eps = float(space["bnEps"])
        self.p: Dict[str, nn.Parameter] = {}
        self._plans: Dict[str, dict] = {}
        self._allocate(seed)

    # -- parameters ---------------------------------------------------------------------------------------------------

    def _add(self, name: str, tensor: torch.Tensor) -> None:
        *path, leaf = name.split(".")
        node: nn.Module = self
        for part in path:
            child = getattr(node, part, None) if part in node._modules else None
            if child is None:
                child = _Node()
                node.add_module(part, child)
            node = child
        param = nn.Parameter(tensor)
        node.register_parameter(leaf, param)
        self.p[name] = param

    def _allocate(self, seed: int) -> None:
        """PyTorch's default init (METHOD.md §2.1): U(±1/√fan_in) with fan_in of the max weight; BN γ = 1, β = 0; the last
        BN γ of every block 0 (its residual branch starts as the identity)."""
        gen = torch.Generator().manual_seed(seed)

        def uniform(name, shape, fan_in):
            bound = 1.0 / math.sqrt(fan_in)
            self._add(name, (torch.rand(shape, generator=gen) * 2 - 1) * bound)

        def bn(prefix, c, gamma=1.0):
            self._add(f"{prefix}.bn.gamma", torch.full((c,), gamma))
            self._add(f"{prefix}.bn.beta", torch.zeros(c))

        f, h = self.shape["first"], self.shape["head"]
        uniform("first.conv.w", (f["maxOut"], f["cIn"], f["kernel"], f["kernel"]), f["cIn"] * f["kernel"] ** 2)
        bn("first", f["maxOut"])
        for b in self.shape["blocks"]:
            p = f"blocks.{b['globalIndex']}"
            if b["hasExpand"]:
                uniform(f"{p}.expand.w", (b["maxMid"], b["maxIn"], 1, 1), b["maxIn"])
                bn(f"{p}.expand", b["maxMid"])
            uniform(f"{p}.dw.w", (b["maxMid"], 1, b["maxKernel"], b["maxKernel"]), b["maxKernel"] ** 2)
            bn(f"{p}.dw", b["maxMid"])
            if b["maxSe"] > 0:
                uniform(f"{p}.se.reduce.w", (b["maxSe"], b["maxMid"], 1, 1), b["maxMid"])
                uniform(f"{p}.se.reduce.b", (b["maxSe"],), b["maxMid"])
                uniform(f"{p}.se.expand.w", (b["maxMid"], b["maxSe"], 1, 1), b["maxSe"])
                uniform(f"{p}.se.expand.b", (b["maxMid"],), b["maxSe"])
            uniform(f"{p}.project.w", (b["maxOut"], b["maxMid"], 1, 1), b["maxMid"])
            bn(f"{p}.project", b["maxOut"], 0.0)
            if b["hasShortcutConv"]:
                uniform(f"{p}.shortcut.w", (b["maxOut"], b["maxIn"], 1, 1), b["maxIn"])
        uniform("head.expand.w", (h["maxExpand"], h["maxIn"], 1, 1), h["maxIn"])
        bn("head.expand", h["maxExpand"])
        uniform("head.mix.w", (h["maxLast"], h["maxExpand"], 1, 1), h["maxExpand"])
        uniform("classifier.w", (h["numClasses"], h["maxLast"]), h["maxLast"])
        uniform("classifier.b", (h["numClasses"],), h["maxLast"])

    def plan(self, g: dict) -> dict:
        key = canonical_genome_json(g)
        p = self._plans.get(key)
        if p is None:
            p = subnet_plan(self.space, validate_genome(self.space, g), self.num_classes)
            if len(self._plans) >= 256:
                self._plans.clear()
            self._plans[key] = p
        return p

    # -- forward ------------------------------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, genome: dict, bn_stats: Optional[Dict[str, tuple]] = None,
                regularize: Optional[Regularize] = None,
                observer: Optional[Callable[[str, torch.Tensor, torch.Tensor, int], None]] = None) -> torch.Tensor:
        """Logits of one subnet for x [N, C, H, W] (resized to the genome's resolution, bilinear, half-pixel centres).

        bn_stats: {bn name: (mean, variance)} calibrated for this subnet → eval-mode BN; otherwise batch statistics
        (training). observer(name, mean, biased variance, count) sees each BN's batch statistics (calibration).
        """
        plan = self.plan(genome)
        P = self.p
        eps = self.eps

        def batch_norm(name, h, c):
            gamma, beta = P[f"{name}.bn.gamma"][:c], P[f"{name}.bn.beta"][:c]
            if bn_stats is not None:
                mean, var = bn_stats[name]
                return F.batch_norm(h, mean, var, gamma, beta, False, 0.0, eps)
            if observer is not None:
                mean = h.mean((0, 2, 3))
                var = ((h - mean[None, :, None, None]) ** 2).mean((0, 2, 3))
                observer(name, mean.detach(), var.detach(), h.shape[0] * h.shape[2] * h.shape[3])
            return F.batch_norm(h, None, None, gamma, beta, True, 0.0, eps)

        def pointwise(name, h, c_in, c_out):
            return F.conv2d(h, P[f"{name}.w"][:c_out, :c_in])

        if x.shape[2] != plan["resolution"] or x.shape[3] != plan["resolution"]:
            x = F.interpolate(x, size=(plan["resolution"], plan["resolution"]), mode="bilinear", align_corners=False)
        if x.shape[1] != plan["inputChannels"]:
            raise ValueError(f"input has {x.shape[1]} channels, space '{self.space['id']}' expects {plan['inputChannels']}")

        f = plan["first"]
        w = P["first.conv.w"][: f["cOut"], : f["cIn"]]
        h = F.silu(batch_norm("first", F.conv2d(x, w, stride=f["stride"], padding=f["kernel"] // 2), f["cOut"]))

        for b in plan["blocks"]:
            h = self._block(h, b, batch_norm, pointwise, regularize)

        hd = plan["head"]
        h = F.silu(batch_norm("head.expand", pointwise("head.expand", h, hd["cIn"], hd["cExpand"]), hd["cExpand"]))
        feat = h.mean((2, 3))
        feat = F.silu(F.linear(feat, P["head.mix.w"][: hd["cLast"], : hd["cExpand"], 0, 0]))
        if regularize is not None and regularize.dropout > 0:
            keep = 1.0 - regularize.dropout
            feat = feat * (regularize.keep_mask(feat.shape, keep, feat.device) / keep)
        return F.linear(feat, P["classifier.w"][:, : hd["cLast"]], P["classifier.b"])

    def _block(self, x, b, batch_norm, pointwise, regularize):
        P = self.p
        p = f"blocks.{b['globalIndex']}"
        c_in, c_mid, c_out, k = b["cIn"], b["cMid"], b["cOut"], b["kernel"]
        h = x
        if b["hasExpand"]:
            h = F.silu(batch_norm(f"{p}.expand", pointwise(f"{p}.expand", h, c_in, c_mid), c_mid))
        wd = P[f"{p}.dw.w"]
        off = (wd.shape[2] - k) // 2
        dw = wd[:c_mid, :, off: off + k, off: off + k]
        h = F.silu(batch_norm(f"{p}.dw", F.conv2d(h, dw, stride=b["stride"], padding=k // 2, groups=c_mid), c_mid))
        if b["cSe"] > 0:
            c_se = b["cSe"]
            s = F.relu(F.linear(h.mean((2, 3)), P[f"{p}.se.reduce.w"][:c_se, :c_mid, 0, 0], P[f"{p}.se.reduce.b"][:c_se]))
            gate = hsigmoid(F.linear(s, P[f"{p}.se.expand.w"][:c_mid, :c_se, 0, 0], P[f"{p}.se.expand.b"][:c_mid]))
            h = h * gate[:, :, None, None]
        h = batch_norm(f"{p}.project", pointwise(f"{p}.project", h, c_mid, c_out), c_out)

        shortcut = x
        if b["shortcutPool"]:
            odd = shortcut.shape[2] % 2 == 1 or shortcut.shape[3] % 2 == 1
            shortcut = F.avg_pool2d(shortcut, 2, 2, padding=1 if odd else 0, count_include_pad=True)
        if b["shortcutConv"]:
            shortcut = pointwise(f"{p}.shortcut", shortcut, c_in, c_out)
        if regularize is not None and regularize.drop_connect > 0 and b["dropConnectScale"] > 0:
            keep = 1.0 - regularize.drop_connect * b["dropConnectScale"]
            h = h * (regularize.keep_mask((h.shape[0], 1, 1, 1), keep, h.device) / keep)
        return h + shortcut

    def subnet_param_names(self, genome: dict) -> set:
        """The parameters a subnet uses (they receive gradients)."""
        plan = self.plan(genome)
        names = {"first.conv.w", "first.bn.gamma", "first.bn.beta", "head.expand.w", "head.expand.bn.gamma",
                 "head.expand.bn.beta", "head.mix.w", "classifier.w", "classifier.b"}
        for b in plan["blocks"]:
            p = f"blocks.{b['globalIndex']}"
            parts = ["dw", "project"] + (["expand"] if b["hasExpand"] else [])
            for q in parts:
                names |= {f"{p}.{q}.w", f"{p}.{q}.bn.gamma", f"{p}.{q}.bn.beta"}
            if b["cSe"] > 0:
                names |= {f"{p}.se.reduce.w", f"{p}.se.reduce.b", f"{p}.se.expand.w", f"{p}.se.expand.b"}
            if b["shortcutConv"]:
                names.add(f"{p}.shortcut.w")
        return names


@torch.no_grad()
def calibrate_bn(net: Supernet, genome: dict, batches: Iterable[torch.Tensor]) -> Dict[str, tuple]:
    """BN recalibration (METHOD.md §4): training-mode forwards over the batches; running mean = plain average of the batch
    means, running variance = plain average of the unbiased batch variances (n/(n−1), n = B·H·W) — PyTorch's
    cumulative average (momentum None), as `calibrateBn`. Accumulated in float64."""
    sums: Dict[str, list] = {}
    count = 0

    def observe(name, mean, var, n):
        acc = sums.get(name)
        if acc is None:
            acc = sums[name] = [torch.zeros_like(mean, dtype=torch.float64), torch.zeros_like(var, dtype=torch.float64)]
        acc[0] += mean.double()
        acc[1] += var.double() * (n / (n - 1) if n > 1 else 1.0)

    for x in batches:
        net(x, genome, observer=observe)
        count += 1
    if count == 0:
        raise ValueError("BN calibration needs at least one batch")
    return {name: ((m / count).float(), (v / count).float()) for name, (m, v) in sums.items()}


@torch.no_grad()
def evaluate(net: Supernet, genome: dict, bn_stats: Dict[str, tuple], images: Iterable[tuple], label_smoothing: float = 0.0) -> dict:
    """Top-1 and mean cross-entropy of a subnet with calibrated statistics over (x, labels) batches."""
    correct = 0
    total = 0
    loss_sum = 0.0
    for x, y in images:
        logits = net(x, genome, bn_stats=bn_stats)
        correct += int((logits.argmax(1) == y).sum())
        loss_sum += float(F.cross_entropy(logits, y.long(), reduction="sum"))
        total += int(y.shape[0])
    return {"top1": correct / max(total, 1), "loss": loss_sum / max(total, 1), "images": total}
