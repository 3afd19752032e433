#!/usr/bin/env python3
"""Torch engine sandwich-step throughput on this machine's CPU (docs/BENCHMARKS.md): the real trainer
(`alphanet_torch.train`; under our torchrun shim for N > 1, as the workbench starts it) on a run directory of random
images at the space's largest resolution, the given global batch, no validation unless `--val-images`; per run the
median images/s and step time of the `step` lines after the first two (warm-up) steps, and the trainer process's CPU
time (user, system) and minor page faults over the whole run (start-up included).

`--malloc default,tuned` runs each setting of glibc's malloc (alphanet_torch/malloc.py; `default` sets
ALPHANET_TORCH_MALLOC=default, glibc's own thresholds), alternating, `--rounds` times: the speed-up of the tuning
measured under the same conditions. One JSON line per run on stdout.

    python3 engines/torch/bench_cpu.py [--space alphanet-cifar32] [--batch 64] [--steps 8] [--ranks 1,2]
        [--threads-per-rank 1] [--malloc tuned] [--rounds 1] [--val-images 0]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from alphanet_torch.data import write_run_dataset  # noqa: E402
from alphanet_torch.malloc import OPT_OUT  # noqa: E402
from alphanet_torch.spaces import get_space  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--threads-per-rank", type=int, default=1)
    ap.add_argument("--space", default="alphanet-cifar32")
    ap.add_argument("--malloc", default="tuned", help="comma-separated: default (glibc's thresholds), tuned (malloc.tune)")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each setting, alternating")
    ap.add_argument("--val-images", type=int, default=0, help="validate once at the end as a run does each epoch (BN "
                    "recalibration on 16 batches of 64, then min, max and 2 random subnets at batch 256) on this many images; 0: none")
    a = ap.parse_args()
    settings = a.malloc.split(",")
    for setting in settings:
        if setting not in ("default", "tuned"):
            ap.error(f"--malloc: {setting}: default or tuned")
    space = get_space(a.space)
    side, channels = max(space["resolutions"]), space["inputChannels"]
    for rnd in range(a.rounds):
        for ranks in [int(r) for r in a.ranks.split(",")]:
            for setting in settings:
                row = run_once(a, space, side, channels, ranks, setting)
                if row is None:
                    return 1
                print(json.dumps({**row, "round": rnd}), flush=True)
    return 0


def run_once(a, space, side, channels, ranks, setting):
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(0)
        n = max(a.batch * (a.steps + 1), 16 * 64 if a.val_images else 0)  # the recalibration's 16 batches of 64
        write_run_dataset(os.path.join(d, "dataset"), "bench", {
            "train": (rng.integers(0, 256, (n, side, side, channels), dtype=np.uint8), rng.integers(0, 10, n)),
            "val": (rng.integers(0, 256, (max(16, a.val_images), side, side, channels), dtype=np.uint8), rng.integers(0, 10, max(16, a.val_images)))},
            [str(i) for i in range(space["numClasses"])], [0.5] * channels, [0.25] * channels, True, 4)
        cfg = {"runId": 0, "space": space, "epochs": 1, "batchSize": a.batch, "stepsPerEpoch": a.steps,
               "seed": 0, "distillation": {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5},
               "subnetsPerStep": 4, "sandwichRule": True,
               "optimizer": {"kind": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.1, "warmupEpochs": 1, "warmupStartFactor": 0.001,
                             "weightDecay": 5e-5, "gradClipValue": 1.0},
               "labelSmoothing": 0.1, "dropout": 0.2, "dropConnect": 0.2, "augment": True,
               "validation": {"everyEpochs": 1, "calibrationBatches": 16, "calibrationBatchSize": 64, "randomSubnets": 2, "batchSize": 256}
               if a.val_images else {"everyEpochs": 0, "calibrationBatches": 1, "calibrationBatchSize": 16, "randomSubnets": 0, "batchSize": 16, "maxImages": 16},
               "progressEverySteps": 100, "checkpoint": {"everySteps": 1000, "keepLast": 1},
               "nan": {"policy": "stop", "lrFactor": 0.5, "maxRollbacks": 0}}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        env = dict(os.environ, PYTHONPATH=HERE, OMP_NUM_THREADS=str(a.threads_per_rank))
        env.pop(OPT_OUT, None)
        if setting == "default":
            env[OPT_OUT] = "default"
        launcher = ["-m", "alphanet_torch.torchrun", "--standalone", f"--nproc_per_node={ranks}"] if ranks > 1 else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([sys.executable, *launcher, "-m", "alphanet_torch.train", d, "--device", "cpu", "--threads", str(a.threads_per_rank)],
                           capture_output=True, text=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            print(r.stderr[-2000:], file=sys.stderr)
            return None
        msgs = [json.loads(l) for l in open(os.path.join(d, "progress.jsonl"))]
        timed = [m for m in msgs if m["type"] == "step"][2:]
        epochs = [m for m in msgs if m["type"] == "epoch"]
        return {"space": a.space, "malloc": setting, "ranks": ranks, "threadsPerRank": a.threads_per_rank, "batch": a.batch,
                "medianImagesPerSec": statistics.median(s["imagesPerSec"] for s in timed),
                "medianStepMs": statistics.median(s["stepMs"] for s in timed), "timedSteps": len(timed),
                "userS": after.ru_utime - before.ru_utime, "systemS": after.ru_stime - before.ru_stime,
                "minorFaults": after.ru_minflt - before.ru_minflt, "load": os.getloadavg()[0],
                "validationS": epochs[-1]["seconds"] if a.val_images and epochs else None}


if __name__ == "__main__":
    sys.exit(main())
