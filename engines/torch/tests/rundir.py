"""A tiny run directory for the training tests: a two-stage space small enough for a CPU step in milliseconds, a
random labelled dataset, and a config with every field the trainer reads (the workbench's defaults otherwise)."""
import json
import os

import numpy as np

from alphanet_torch.data import write_run_dataset

TINY_SPACE = {
    "id": "tiny-test", "inputChannels": 3, "numClasses": 4, "resolutions": [12, 16],
    "firstConv": {"width": [8], "kernelSize": 3, "stride": 1},
    "stages": [
        {"name": "mb1", "width": [8, 16], "depth": [1, 2], "kernelSize": [3, 5], "expandRatio": [1], "stride": 1, "se": False},
        {"name": "mb2", "width": [16, 24], "depth": [1, 2], "kernelSize": [3, 5], "expandRatio": [3, 4], "stride": 2, "se": True},
    ],
    "lastConv": {"width": [32, 48]}, "headExpand": 2, "bnEps": 1e-5, "widthMode": "per-stage", "dropConnectLastStages": 2,
}


def config(**over):
    c = {
        "runId": 7, "space": TINY_SPACE, "dataset": "tiny", "epochs": 2, "batchSize": 8, "stepsPerEpoch": 3, "seed": 3,
        "distillation": {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5}, "subnetsPerStep": 4,
        "sandwichRule": True,
        "optimizer": {"kind": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.1, "warmupEpochs": 1, "warmupStartFactor": 0.001,
                      "weightDecay": 5e-5, "gradClipValue": 1.0},
        "labelSmoothing": 0.1, "dropout": 0.2, "dropConnect": 0.2, "augment": True,
        "validation": {"everyEpochs": 1, "calibrationBatches": 2, "calibrationBatchSize": 8, "randomSubnets": 1, "batchSize": 16, "maxImages": 24},
        "progressEverySteps": 1, "checkpoint": {"everySteps": 2, "keepLast": 2},
        "nan": {"policy": "rollback", "lrFactor": 0.5, "maxRollbacks": 5},
        "engine": "torch", "gpus": 0,
    }
    for k, v in over.items():
        c[k] = v
    return c


def make_run_dir(path, n_train=40, n_val=24, **over):
    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(0)
    splits = {
        "train": (rng.integers(0, 256, (n_train, 16, 16, 3), dtype=np.uint8), rng.integers(0, 4, n_train)),
        "val": (rng.integers(0, 256, (n_val, 16, 16, 3), dtype=np.uint8), rng.integers(0, 4, n_val)),
    }
    write_run_dataset(os.path.join(path, "dataset"), "tiny", splits, ["a", "b", "c", "d"], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], True, 2)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config(**over), f)
    return str(path)


def lines(run_dir):
    with open(os.path.join(run_dir, "progress.jsonl")) as f:
        return [json.loads(l) for l in f]
