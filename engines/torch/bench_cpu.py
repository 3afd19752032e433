#!/usr/bin/env python3
"""Torch engine sandwich-step throughput on this machine's CPU with 1 and N ranks (docs/BENCHMARKS.md): the real
trainer (`alphanet_torch.train`; under our torchrun shim for N > 1, as the workbench starts it) on a run directory of random 32×32 images, alphanet-cifar32,
the given global batch, no validation; the median images/s of the `step` lines after the first (warm-up) steps.

    python3 engines/torch/bench_cpu.py [--batch 64] [--steps 8] [--ranks 1,2] [--threads-per-rank 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from alphanet_torch.data import write_run_dataset  # noqa: E402
from alphanet_torch.spaces import get_space  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--threads-per-rank", type=int, default=1)
    a = ap.parse_args()
    out = []
    for ranks in [int(r) for r in a.ranks.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            rng = np.random.default_rng(0)
            n = a.batch * (a.steps + 1)
            write_run_dataset(os.path.join(d, "dataset"), "bench", {
                "train": (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n)),
                "val": (rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 16))},
                [str(i) for i in range(10)], [0.5] * 3, [0.25] * 3, True, 4)
            cfg = {"runId": 0, "space": get_space("alphanet-cifar32"), "epochs": 1, "batchSize": a.batch, "stepsPerEpoch": a.steps,
                   "seed": 0, "distillation": {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5},
                   "subnetsPerStep": 4, "sandwichRule": True,
                   "optimizer": {"kind": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.1, "warmupEpochs": 1, "warmupStartFactor": 0.001,
                                 "weightDecay": 5e-5, "gradClipValue": 1.0},
                   "labelSmoothing": 0.1, "dropout": 0.2, "dropConnect": 0.2, "augment": True,
                   "validation": {"everyEpochs": 0, "calibrationBatches": 1, "calibrationBatchSize": 16, "randomSubnets": 0, "batchSize": 16, "maxImages": 16},
                   "progressEverySteps": 100, "checkpoint": {"everySteps": 1000, "keepLast": 1},
                   "nan": {"policy": "stop", "lrFactor": 0.5, "maxRollbacks": 0}}
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(cfg, f)
            env = dict(os.environ, PYTHONPATH=HERE, OMP_NUM_THREADS=str(a.threads_per_rank))
            launcher = ["-m", "alphanet_torch.torchrun", "--standalone", f"--nproc_per_node={ranks}"] if ranks > 1 else []
            r = subprocess.run([sys.executable, *launcher, "-m", "alphanet_torch.train", d, "--device", "cpu", "--threads", str(a.threads_per_rank)],
                               capture_output=True, text=True, env=env)
            if r.returncode != 0:
                print(r.stderr[-2000:])
                return 1
            steps = [json.loads(l) for l in open(os.path.join(d, "progress.jsonl")) if '"type":"step"' in l]
            ips = [s["imagesPerSec"] for s in steps[2:]]
            row = {"ranks": ranks, "threadsPerRank": a.threads_per_rank, "batch": a.batch, "medianImagesPerSec": statistics.median(ips),
                   "medianStepMs": statistics.median(s["stepMs"] for s in steps[2:]), "timedSteps": len(ips), "load": os.getloadavg()[0]}
            print(json.dumps(row))
            out.append(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
