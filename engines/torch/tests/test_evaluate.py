"""The subnet evaluator (alphanet_torch.evaluate): its numbers equal the engine's own BN recalibration and evaluation
on the same tensors, the calibration images are placed as the workbench's loader places them, the batch mode writes
one line per genome, continues a partial file and splits over ranks, and bad setups get one line.

Parity with the workbench's TF.js evaluation of the same genomes is tested from the TypeScript side
(test/unit/search/torch-evaluation.test.ts), which writes the setup the way the workbench does."""
import hashlib
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO
from rundir import TINY_SPACE, make_run_dir
from test_parity_engine import randomised
from alphanet_torch import checkpoint as C
from alphanet_torch.evaluate import Evaluator, norm_lut, place, to_input
from alphanet_torch.spaces import max_genome, min_genome, random_genome
from alphanet_torch.supernet import calibrate_bn, evaluate

ENGINE = os.path.join(REPO, "engines", "torch")


def trained_ish(tmp_path):
    """A run directory and a checkpoint of a randomised supernet (BN γ, β too), with its setup."""
    run = make_run_dir(tmp_path / "run", n_train=40, n_val=30)
    _, net = randomised(TINY_SPACE, seed=5)
    ck = str(tmp_path / "w.ckpt")
    C.save_workbench_weights(net, ck, state={"step": 1, "epoch": 0, "batch": 0}, config={})
    sha = hashlib.sha256(open(ck, "rb").read()).hexdigest()
    rng = np.random.default_rng(1)
    calibration = [{"indices": [int(i) for i in rng.choice(40, 8, replace=False)], "dy": [int(v) for v in rng.integers(-2, 3, 8)],
                    "dx": [int(v) for v in rng.integers(-2, 3, 8)], "flip": [int(v) for v in rng.integers(0, 2, 8)]} for _ in range(2)]
    setup = {"checkpoint": {"path": ck, "sha256": sha}, "space": TINY_SPACE, "numClasses": 4,
             "dataset": os.path.join(run, "dataset"), "split": "val", "batchSize": 7, "calibration": calibration}
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(setup))
    return net, setup, str(path)


def test_place_crops_with_zero_padding_and_flips_as_the_loader():
    img = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1) + 1  # rows 1 2 3 / 4 5 6 / 7 8 9
    # Output (y, x) reads input (y + dy, x + dx), zero outside.
    assert place(img, [1], [-1], [0])[0, :, :, 0].tolist() == [[0, 4, 5], [0, 7, 8], [0, 0, 0]]
    # Flipped: output (y, x) reads input (y + dy, (2 − x) + dx).
    assert place(img, [0], [1], [1])[0, :, :, 0].tolist() == [[0, 3, 2], [0, 6, 5], [0, 9, 8]]
    assert place(img, [0], [0], [1])[0, :, :, 0].tolist() == [[3, 2, 1], [6, 5, 4], [9, 8, 7]]


def test_lut_normalisation_is_rounded_once_from_float64():
    lut = norm_lut([0.3], [0.7])
    for v in (0, 1, 77, 128, 255):
        assert lut[0, v] == np.float32((v / 255 - 0.3) / 0.7)
    x = to_input(np.array([[[[0, 255, 3]]]], dtype=np.uint8), norm_lut([0.1, 0.2, 0.3], [1, 2, 3]))
    assert list(x.shape) == [1, 3, 1, 1] and float(x[0, 1, 0, 0]) == np.float32((1 - 0.2) / 2)


def test_numbers_equal_the_engines_calibration_and_evaluation(tmp_path):
    net, setup, _ = trained_ish(tmp_path)
    ev = Evaluator(setup, "cpu")
    for g in (min_genome(TINY_SPACE), max_genome(TINY_SPACE), random_genome(TINY_SPACE, random.Random(3))):
        r = ev.evaluate(g)
        stats = calibrate_bn(net, g, ev.calibration)
        ref = evaluate(net, g, stats, ev.batches)
        assert r["images"] == ref["images"] == 30
        assert r["accuracy"] == ref["top1"]
        assert r["loss"] == pytest.approx(ref["loss"], rel=1e-6)
        zero = {k: (torch.zeros_like(m), torch.ones_like(v)) for k, (m, v) in stats.items()}
        before = evaluate(net, g, zero, ev.batches)
        assert r["before"]["accuracy"] == before["top1"] and r["before"]["loss"] == pytest.approx(before["loss"], rel=1e-6)
        assert r["calibration"] == {"batches": 2, "images": 16}
        # Calibration changes the numbers (a test of "before" that could not fail otherwise).
        assert r["loss"] != r["before"]["loss"]


def run_eval(*args, env=None):
    e = dict(os.environ, PYTHONPATH=ENGINE, OMP_NUM_THREADS="1")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "alphanet_torch.evaluate", *args, "--device", "cpu", "--threads", "1"],
                          capture_output=True, text=True, env=e, timeout=300)


def test_batch_mode_continues_a_partial_file_and_splits_over_ranks(tmp_path):
    _, setup, path = trained_ish(tmp_path)
    genomes = [min_genome(TINY_SPACE), max_genome(TINY_SPACE)] + [random_genome(TINY_SPACE, random.Random(s)) for s in range(3)]
    gpath = tmp_path / "in.jsonl"
    gpath.write_text("".join(json.dumps({"id": f"g{i}", "genome": g}) + "\n" for i, g in enumerate(genomes)) + json.dumps({"id": "bad", "genome": dict(genomes[0], resolution=99)}) + "\n")
    out = tmp_path / "out.jsonl"
    r = run_eval(path, "--genomes", str(gpath), "--out", str(out))
    assert r.returncode == 0, r.stderr
    full = [json.loads(l) for l in out.read_text().splitlines()]
    assert [x["id"] for x in full] == [f"g{i}" for i in range(5)] + ["bad"]
    assert "resolution: 99 is not one of" in full[-1]["error"]
    ev = Evaluator(setup, "cpu")
    assert full[1]["result"]["accuracy"] == ev.evaluate(genomes[1])["accuracy"]

    # A job killed after two answers and half a line: rerun answers the rest once.
    part = tmp_path / "part.jsonl"
    part.write_text("\n".join(out.read_text().splitlines()[:2]) + "\n" + '{"id":"g2","res')
    assert run_eval(path, "--genomes", str(gpath), "--out", str(part)).returncode == 0
    again = [json.loads(l) for l in part.read_text().splitlines()]
    assert [x["id"] for x in again] == [x["id"] for x in full]
    assert [x.get("result", {}).get("loss") for x in again] == [x.get("result", {}).get("loss") for x in full]

    # Three ranks take lines i mod 3; together they answer every genome with the same numbers.
    split = tmp_path / "split.jsonl"
    for rank in range(3):
        r = run_eval(path, "--genomes", str(gpath), "--out", str(split), "--rank-split", env={"SLURM_PROCID": str(rank), "SLURM_NTASKS": "3"})
        assert r.returncode == 0, r.stderr
    parts = {rank: [json.loads(l) for l in open(f"{split}.rank{rank}")] for rank in range(3)}
    assert [x["id"] for x in parts[1]] == ["g1", "g4"]
    merged = {x["id"]: x for p in parts.values() for x in p}
    assert {k: v.get("result", {}).get("accuracy") for k, v in merged.items()} == {x["id"]: x.get("result", {}).get("accuracy") for x in full}


def test_serve_mode_answers_in_order_and_survives_a_bad_genome(tmp_path):
    _, _, path = trained_ish(tmp_path)
    e = dict(os.environ, PYTHONPATH=ENGINE, OMP_NUM_THREADS="1")
    reqs = [{"id": 1, "genome": min_genome(TINY_SPACE)}, {"id": 2, "genome": {"resolution": 16}}, {"id": 3, "genome": max_genome(TINY_SPACE)}]
    r = subprocess.run([sys.executable, "-m", "alphanet_torch.evaluate", path, "--device", "cpu"], input="".join(json.dumps(q) + "\n" for q in reqs),
                       capture_output=True, text=True, env=e, timeout=300)
    assert r.returncode == 0, r.stderr
    out = [json.loads(l) for l in r.stdout.splitlines()]
    assert out[0]["type"] == "ready" and out[0]["device"] == "cpu"
    assert [o["id"] for o in out[1:]] == [1, 2, 3]
    assert "result" in out[1] and "width: required" in out[2]["error"] and "result" in out[3]


def test_bad_setups_get_one_line(tmp_path):
    _, setup, path = trained_ish(tmp_path)
    bad = dict(setup, checkpoint={"path": setup["checkpoint"]["path"], "sha256": "0" * 64})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = run_eval(str(tmp_path / "bad.json"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"alphanet_torch.evaluate: checkpoint {setup['checkpoint']['path']} changed: sha256 {r.stderr.split('sha256 ')[1][:12]}…, the search pinned 000000000000…"]
    (tmp_path / "nosplit.json").write_text(json.dumps(dict(setup, split="test")))
    r = run_eval(str(tmp_path / "nosplit.json"))
    assert r.returncode == 2 and "has no test split" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "far.json").write_text(json.dumps(dict(setup, calibration=[{"indices": [40], "dy": [0], "dx": [0], "flip": [0]}])))
    r = run_eval(str(tmp_path / "far.json"))
    assert r.returncode == 2 and "calibration batch 0 names image 40, but the train split has 40" in r.stderr
    r = run_eval(str(tmp_path / "missing.json"))
    assert r.returncode == 2 and r.stderr.startswith("alphanet_torch.evaluate: cannot read the evaluation setup")
