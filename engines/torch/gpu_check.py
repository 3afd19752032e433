#!/usr/bin/env python3
"""The torch engine on a GPU machine, in one short run (docs/TORCH.md, numbers for docs/BENCHMARKS.md):

1. the engine's test suite minus the tests that need the workbench's Node CLI (a GPU box often has no Node);
2. the same subnets with the same weights on the CPU and on the device: max |Δ logits| (TF32 off), batch-statistics
   and BN-calibrated;
3. the sandwich step (forward + backward of max, 2 random, min; clipping; Nesterov step) in images/s on the 32×32
   space (alphanet-cifar32) and the paper's 224×224 space (alphanet-imagenet), batch 32–256.

    python3 engines/torch/gpu_check.py                 # on a GPU: everything above
    python3 engines/torch/gpu_check.py --quick         # anywhere, CPU included: small batches, one timed step
    python3 engines/torch/gpu_check.py --json out.json

Prints one line per measurement and a JSON summary at the end (also to --json).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from alphanet_torch import spaces as S  # noqa: E402
from alphanet_torch.optim import NesterovSgd  # noqa: E402
from alphanet_torch.supernet import Supernet, calibrate_bn  # noqa: E402
from alphanet_torch.train import regularizer, sandwich_backward, sandwich_members  # noqa: E402

CFG = {"dropout": 0.2, "dropConnect": 0.2, "labelSmoothing": 0.1,
       "distillation": {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5}}


def run_tests(quick: bool) -> dict:
    args = [sys.executable, "-m", "pytest", os.path.join(HERE, "tests"), "-q", "-p", "no:cacheprovider", "-m", "not workbench"]
    if quick:
        args += ["-k", "not distributed"]
    t0 = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True)
    tail = (r.stdout.strip().splitlines() or [""])[-1]
    print(f"tests: {tail} ({time.perf_counter() - t0:.0f} s)")
    return {"exitCode": r.returncode, "summary": tail}


def device_parity(device: torch.device) -> dict:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    space = S.get_space("alphanet-cifar32")
    net = Supernet(space, seed=1)
    with torch.no_grad():
        for name, p in net.p.items():
            if name.endswith(".bn.gamma"):
                p.uniform_(0.5, 1.5)
    dev = Supernet(space, seed=2).to(device)
    dev.load_state_dict(net.state_dict())
    gen = torch.Generator().manual_seed(3)
    worst = 0.0
    for g in (S.max_genome(space), S.min_genome(space)):
        x = torch.randn(16, 3, 32, 32, generator=gen)
        calib = [torch.randn(16, 3, 32, 32, generator=gen) for _ in range(2)]
        with torch.no_grad():
            a = net(x, g)
            b = dev(x.to(device), g).cpu()
            ac = net(x, g, bn_stats=calibrate_bn(net, g, calib))
            bc = dev(x.to(device), g, bn_stats=calibrate_bn(dev, g, [c.to(device) for c in calib])).cpu()
        worst = max(worst, float((a - b).abs().max()), float((ac - bc).abs().max()))
    print(f"cpu vs {device}: max |Δ logits| {worst:.2e} (batch statistics and calibrated; max and min subnets)")
    return {"maxAbsDiff": worst, "ok": worst <= 1e-4}


def time_step(space_id: str, batch: int, device: torch.device, repeats: int) -> dict:
    space = S.get_space(space_id)
    res = space["resolutions"][-1] if space_id != "alphanet-imagenet" else 224
    net = Supernet(space, seed=0).to(device)
    opt = NesterovSgd(net.p, 0.9, True, 1e-5)
    x = torch.randn(batch, space["inputChannels"], res, res, device=device)
    y = torch.randint(0, space["numClasses"], (batch,), device=device)
    times = []
    for t in range(repeats + 1):
        members = sandwich_members(space, 0, t)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad()
        sandwich_backward(net, space["numClasses"], x, y, members, CFG, regularizer(CFG, 0, t, 0))
        opt.step(0.01, 1.0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if t > 0:  # the first step warms up (cuDNN autotuning, allocator)
            times.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    row = {"space": space_id, "resolution": res, "batch": batch, "stepMs": med * 1000, "imagesPerSec": batch / med}
    print(f"sandwich step {space_id} @{res} batch {batch}: {med * 1000:.0f} ms, {batch / med:.1f} img/s")
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small batches, one timed step, CPU allowed")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--skip-tests", action="store_true")
    a = ap.parse_args()
    device = torch.device("cuda" if (a.device == "auto" and torch.cuda.is_available()) or a.device == "cuda" else "cpu")
    info = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
            "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None, "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(), "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    print(f"torch {info['torch']} on {info['gpu'] or 'CPU'} (python {info['python']})")
    out = {"info": info}
    if not a.skip_tests:
        out["tests"] = run_tests(a.quick)
    out["parity"] = device_parity(device) if device.type == "cuda" else {"skipped": "no CUDA device"}
    plan = [("alphanet-cifar32", [8] if a.quick else [32, 64, 128, 256]), ("alphanet-imagenet", [2] if a.quick else [32, 64, 128, 256])]
    rows = []
    for space_id, batches in plan:
        for b in batches:
            try:
                rows.append(time_step(space_id, b, device, 1 if a.quick else 3))
            except RuntimeError as e:  # out of memory at a large batch: record it, go on
                print(f"sandwich step {space_id} batch {b}: {str(e).splitlines()[0]}")
                rows.append({"space": space_id, "batch": b, "error": str(e).splitlines()[0]})
                if device.type == "cuda":
                    torch.cuda.empty_cache()
    out["sandwich"] = rows
    text = json.dumps(out, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    failed = out.get("tests", {}).get("exitCode", 0) != 0 or not out["parity"].get("ok", True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
