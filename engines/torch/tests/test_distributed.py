"""A 2-rank gloo run of the real entry point (`torchrun -m alphanet_torch.train`) on CPU gives the same weights as one
process that computes the two ranks' shards one after another — each shard's forward with its own BN batch
statistics and its own dropout/drop-connect masks — and averages their gradients as DDP does, then takes the same
clipped Nesterov step. Also: a rank that dies fails the run with one line, and the last good checkpoint stays."""
import os
import subprocess
import sys

import pytest
import torch

from conftest import HERE
from rundir import config, lines, make_run_dir
from alphanet_torch import checkpoint as C
from alphanet_torch.data import RunDataset, train_batch
from alphanet_torch.optim import NesterovSgd, learning_rate
from alphanet_torch.spaces import parse_space
from alphanet_torch.supernet import Supernet
from alphanet_torch.train import base_lr, regularizer, sandwich_backward, sandwich_members

PKG = os.path.dirname(HERE)


def torchrun(run_dir, nproc=2, extra=(), env=None):
    e = dict(os.environ, PYTHONPATH=PKG + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "alphanet_torch.torchrun", "--standalone", f"--nproc_per_node={nproc}",
                           "-m", "alphanet_torch.train", run_dir, "--device", "cpu", "--threads", "1", *extra],
                          capture_output=True, text=True, env=e, timeout=600)


def reference(run_dir, steps, world=2):
    cfg = config(epochs=1, stepsPerEpoch=steps)
    space = parse_space(cfg["space"])
    ds = RunDataset(os.path.join(run_dir, "dataset"))
    net = Supernet(space, num_classes=4, seed=cfg["seed"])
    o = cfg["optimizer"]
    opt = NesterovSgd(net.p, o["momentum"], o["nesterov"], o["weightDecay"])
    for t in range(steps):
        members = sandwich_members(space, cfg["seed"], t, cfg["subnetsPerStep"], cfg["sandwichRule"])
        grads = {}
        for r in range(world):
            opt.zero_grad()
            x, y = train_batch(ds, cfg["seed"], 0, t, cfg["batchSize"], r, world, cfg["augment"])
            sandwich_backward(net, 4, x, y, members, cfg, regularizer(cfg, cfg["seed"], t, r))
            for n, p in net.p.items():
                if p.grad is not None:
                    grads[n] = grads.get(n, 0) + p.grad / world
        for n, p in net.p.items():
            p.grad = grads.get(n)
        lr = learning_rate(base_lr(cfg), t, steps, o["warmupEpochs"] * steps, o["warmupStartFactor"])
        opt.step(lr, o["gradClipValue"])
    return net, opt


def test_two_gloo_ranks_equal_sequential_shards(tmp_path):
    steps = 3
    run = make_run_dir(tmp_path / "run", epochs=1, stepsPerEpoch=steps)
    r = torchrun(run)
    assert r.returncode == 0, r.stderr[-2000:]
    msgs = lines(run)
    assert msgs[-1]["status"] == "finished" and msgs[-1]["step"] == steps
    assert all(m.get("workers") == 2 for m in msgs if m["type"] == "progress")
    last = [m for m in msgs if m["type"] == "checkpoint"][-1]
    _, weights, momentum = C.read(last["path"])
    net, opt = reference(run, steps)
    ref = C.workbench_from_state_dict(dict(net.p))
    worst = max(float(abs(weights[n] - ref[n]).max()) for n in ref)
    print(f"max |Δw| DDP vs sequential shards: {worst:.2e}")
    assert worst < 2e-6, f"max |Δw| between DDP and the sequential reference: {worst:.2e}"
    refm = C.workbench_from_state_dict(opt.buffers)
    assert set(refm) == set(momentum)
    # …and not merely equal to a single-process run over the whole batch (BN statistics are per shard).
    whole, _ = reference(run, steps, world=1)
    wref = C.workbench_from_state_dict(dict(whole.p))
    assert max(float(abs(weights[n] - wref[n]).max()) for n in wref) > 1e-4


def test_a_dying_rank_fails_the_run_and_keeps_the_last_checkpoint(tmp_path):
    run = make_run_dir(tmp_path / "run", epochs=1, stepsPerEpoch=4)
    r = torchrun(run, env={"ALPHANET_TORCH_TEST_KILL_RANK": "1", "ALPHANET_TORCH_TEST_KILL_STEP": "2"})
    assert r.returncode != 0
    ck = sorted(os.listdir(os.path.join(run, "checkpoints")))
    assert ck and ck[0] == "step-00000000-e0.ckpt"
    C.read(os.path.join(run, "checkpoints", ck[-1]))  # intact
    done = lines(run)[-1]
    assert done["type"] == "done" and done["status"] == "failed" and done["error"].startswith("a rank died"), done
