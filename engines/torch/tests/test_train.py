"""The training loop in one process: the run directory's JSON lines, checkpoints the workbench can read, pause and
resume bit-identical to an uninterrupted run, the optimizer and LR schedule against hand-computed values, bad setups."""
import json
import math
import os

import pytest
import torch

from rundir import lines, make_run_dir
from alphanet_torch import checkpoint as C
from alphanet_torch.optim import NesterovSgd, learning_rate
from alphanet_torch.train import (Trainer, TrainError, distillation_at, legacy_validation_subnets, main,
                                  validation_subnets)


def final_weights(run_dir):
    path = sorted(os.listdir(os.path.join(run_dir, "checkpoints")))[-1]
    return C.read(os.path.join(run_dir, "checkpoints", path))


def test_a_run_writes_progress_epochs_and_checkpoints(tmp_path):
    run = make_run_dir(tmp_path / "run")
    assert main([run, "--device", "cpu"]) == 0
    msgs = lines(run)
    kinds = [m["type"] for m in msgs]
    assert kinds[0] == "event" and msgs[0]["kind"] == "start"
    assert kinds.count("progress") == 6 and kinds.count("epoch") == 2
    steps = [m for m in msgs if m["type"] == "step"]  # one per step: the store's step_metrics rows
    assert [m["step"] for m in steps] == [1, 2, 3, 4, 5, 6] and all(m["stepMs"] > 0 for m in steps)
    assert [l.get("divergence") is not None for l in steps[0]["losses"]] == [False, True, True, True]
    assert msgs[-1] == {"type": "done", "runId": 7, "status": "finished", "step": 6}
    p = [m for m in msgs if m["type"] == "progress"]
    assert [m["step"] for m in p] == [1, 2, 3, 4, 5, 6]
    assert [l["role"] for l in p[0]["losses"]] == ["max", "random", "random", "min"]
    assert all(math.isfinite(l["loss"]) for m in p for l in m["losses"])
    assert p[0]["lr"] == pytest.approx(0.1 * 0.001 * 1.0)  # lr(0) = base · f · ½(1 + cos 0)
    assert 0 <= p[0]["alphaMinShare"] <= 1
    e = [m for m in msgs if m["type"] == "epoch"]
    assert [s["subnet"] for s in e[0]["subnets"]] == ["min", "max", "random-1"]
    assert e[0]["subnets"][0]["genome"]["resolution"] == 12 and e[0]["subnets"][0]["valImages"] == 24
    assert all(0 <= s["valTop1"] <= 1 and s["valLoss"] > 0 for s in e[0]["subnets"])
    ck = [m for m in msgs if m["type"] == "checkpoint"]
    assert ck[0]["step"] == 0 and ck[-1]["step"] == 6
    header, weights, momentum = C.read(ck[-1]["path"])
    assert header["state"]["step"] == 6 and header["state"]["epoch"] == 2 and header["runId"] == 7
    assert set(momentum) <= set(weights) and momentum
    # keepLast 2 plus the best
    assert 2 <= len(os.listdir(os.path.join(run, "checkpoints"))) <= 3


def test_kl_warmup_rule_matches_the_workbench_table():
    """The same table as the workbench's config test (test/fixtures/kl-warmup-cases.json), so the engines agree."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test", "fixtures", "kl-warmup-cases.json")
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for c in cases:
        want = c["klSteps"]
        if isinstance(want, str):
            a, b = map(int, want.split("-"))
            want = list(range(a, b + 1))
        got = [t for t in range(c["steps"]) if distillation_at(c["distillation"], t, c["stepsPerEpoch"])["kind"] == "kl"]
        assert got == want, c


def test_a_kl_warmup_trains_as_kl_then_the_alpha_loss_takes_over(tmp_path):
    kl = make_run_dir(tmp_path / "kl", distillation={"kind": "kl"})
    warm = make_run_dir(tmp_path / "warm", distillation={"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5,
                                                          "klWarmupEpochs": 1})
    assert main([kl, "--device", "cpu"]) == 0 and main([warm, "--device", "cpu"]) == 0
    a, b = ([m for m in lines(r) if m["type"] == "step"] for r in (kl, warm))
    assert len(b) == 6
    # Epoch 1 (3 steps): KL's steps exactly, without an α₋ share; epoch 2: the α loss, with one.
    assert [m["losses"] for m in b[:3]] == [m["losses"] for m in a[:3]]
    assert [m["alphaMinShare"] for m in b[:3]] == [None] * 3 and all(0 <= m["alphaMinShare"] <= 1 for m in b[3:])
    assert [l["loss"] for l in b[3]["losses"]] != [l["loss"] for l in a[3]["losses"]]
    assert b[4]["losses"][0]["loss"] != a[4]["losses"][0]["loss"]


def test_pause_then_resume_equals_an_uninterrupted_run(tmp_path):
    a = make_run_dir(tmp_path / "a")
    assert main([a, "--device", "cpu"]) == 0
    b = make_run_dir(tmp_path / "b")
    t = Trainer(b, "cpu")
    orig = t.control
    calls = {"n": 0}

    def pause_at_step_4():
        calls["n"] += 1
        return "pause" if t.state["step"] == 4 else orig()
    t.control = pause_at_step_4
    assert t.run() == "paused"
    assert lines(b)[-1]["status"] == "paused"
    assert main([b, "--device", "cpu", "--resume"]) == 0
    ha, wa, ma = final_weights(a)
    hb, wb, mb = final_weights(b)
    for n in wa:
        assert (wa[n] == wb[n]).all(), n
    for n in ma:
        assert (ma[n] == mb[n]).all(), n
    la = [m["losses"] for m in lines(a) if m["type"] == "progress"]
    lb = [m["losses"] for m in lines(b) if m["type"] == "progress"]
    assert la == lb


def validated(run_dir):
    """{subnet name: genome} of each epoch message, in order."""
    return [{s["subnet"]: s["genome"] for s in m["subnets"]} for m in lines(run_dir) if m["type"] == "epoch"]


@pytest.mark.parametrize("written", ["now", "before-2026-12-07", "stored-other"])
def test_a_resumed_run_validates_the_subnets_it_began_with(tmp_path, written):
    """Checkpoints carry the validation's subnets. A run paused at step 4 (in epoch 2) and resumed validates in epoch 2
    what its checkpoint says: today's draws; for a checkpoint this engine wrote before they were stored, Python's
    draws of that time (the derivation changed on 2026-12-07); and a stored list wins over any derivation."""
    run = make_run_dir(tmp_path / "run", seed=5)
    t = Trainer(run, "cpu")
    space, seed = t.space, t.cfg["seed"]
    now, legacy = validation_subnets(space, seed, 1), legacy_validation_subnets(space, seed, 1)
    assert now[2][1] != legacy[2][1]  # the seed is chosen so the two derivations differ
    orig = t.control
    t.control = lambda: "pause" if t.state["step"] == 4 else orig()
    assert t.run() == "paused"
    path = os.path.join(run, "checkpoints", sorted(os.listdir(os.path.join(run, "checkpoints")))[-1])
    header, weights, momentum = C.read(path)
    assert header["state"]["step"] == 4
    assert header["torch"]["validationSubnets"] == [[n, g] for n, g in now]
    want = now
    if written != "now":
        if written == "before-2026-12-07":
            del header["torch"]["validationSubnets"]
            want = legacy
        else:
            header["torch"]["validationSubnets"][2][1] = legacy[2][1]
            want = [*now[:2], ("random-1", legacy[2][1])]
        C.write_durable(path, C.encode(header, weights, momentum))
    assert main([run, "--device", "cpu", "--resume"]) == 0
    epochs = validated(run)
    assert len(epochs) == 2
    assert epochs[0] == dict(now) and epochs[1] == dict(want)
    notes = [m for m in lines(run) if m["type"] == "event" and "before 2026-12-07" in m.get("message", "")]
    assert len(notes) == (written == "before-2026-12-07")


def test_control_file_cancels(tmp_path):
    run = make_run_dir(tmp_path / "run")
    with open(os.path.join(run, "control"), "w") as f:
        f.write("cancel\n")
    assert main([run, "--device", "cpu"]) == 0
    assert lines(run)[-1]["status"] == "cancelled"


def test_bad_setups_get_one_line(tmp_path, capsys):
    run = make_run_dir(tmp_path / "run", batchSize=7)
    assert Trainer(run, "cpu")  # one rank: any batch
    os.environ["WORLD_SIZE"] = "2"
    try:
        with pytest.raises(TrainError, match="does not split over 2 ranks"):
            Trainer(run, "cpu")
    finally:
        del os.environ["WORLD_SIZE"]
    if not torch.cuda.is_available():
        assert main([run, "--device", "cuda"]) == 2
        assert "sees no CUDA device" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2
    assert "cannot read the run config" in capsys.readouterr().err
    run2 = make_run_dir(tmp_path / "run2")
    assert main([run2, "--resume", "--device", "cpu"]) == 2
    assert "no readable checkpoint" in capsys.readouterr().err


def test_nan_rolls_back_and_halves_the_lr(tmp_path):
    run = make_run_dir(tmp_path / "run", epochs=1)
    t = Trainer(run, "cpu")
    t.save()
    real = t.opt.step
    poisoned = {"done": False}

    def step(lr, clip):
        return real(lr, clip)
    t.opt.step = step
    import alphanet_torch.train as T
    orig = T.sandwich_backward

    def poison(*a, **k):
        r = orig(*a, **k)
        if t.state["step"] == 2 and not poisoned["done"]:
            poisoned["done"] = True
            next(iter(t.net.p.values())).grad.view(-1)[0] = float("nan")
        return r
    T.sandwich_backward = poison
    try:
        assert t.run() == "finished"
    finally:
        T.sandwich_backward = orig
    kinds = [(m["type"], m.get("kind")) for m in lines(run)]
    assert ("event", "nan") in kinds and ("event", "rollback") in kinds
    assert t.state["lrScale"] == 0.5 and t.state["rollbacks"] == 1


def test_nesterov_sgd_and_schedule_by_hand():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    b = torch.nn.Parameter(torch.tensor([0.5]))
    opt = NesterovSgd({"layer.w": w, "layer.b": b}, momentum=0.9, nesterov=True, weight_decay=0.1)
    w.grad = torch.tensor([2.0, 0.5])
    b.grad = torch.tensor([1.0])
    share = opt.step(lr=0.1, clip_value=1.0)
    # clip: g = [1, 0.5]; d = g + 0.1·w = [1.1, 0.3]; v = d; w −= 0.1·(d + 0.9·v) = 0.1·1.9·d
    assert w.detach().tolist() == pytest.approx([1 - 0.19 * 1.1, -2 - 0.19 * 0.3])
    assert b.detach().tolist() == pytest.approx([0.5 - 0.19 * 1.0])  # bias: no decay
    assert share == pytest.approx(1 / 3)
    w.grad = torch.tensor([0.0, 0.0])
    b.grad = None  # skipped: its buffer stays
    w0 = w.detach().clone()
    opt.step(lr=0.1)
    d = 0.1 * w0  # g = 0
    v = 0.9 * torch.tensor([1.1, 0.3]) + d
    assert w.detach().tolist() == pytest.approx((w0 - 0.1 * (d + 0.9 * v)).tolist())
    assert b.detach().tolist() == pytest.approx([0.5 - 0.19])
    assert learning_rate(0.1, 0, 100, 10) == pytest.approx(0.1 * 0.001)
    assert learning_rate(0.1, 5, 100, 10) == pytest.approx(0.1 * (0.001 * 0.5 + 0.5) * 0.5 * (1 + math.cos(math.pi * 5 / 100)))
    assert learning_rate(0.1, 100, 100, 10) == pytest.approx(0.0)


def test_a_run_whose_workbench_process_died_pauses_with_a_checkpoint(tmp_path, monkeypatch):
    """kill -9 of the workbench runner that tracks a torch run: rank 0 notices its parent pid is gone and pauses."""
    import subprocess
    p = subprocess.Popen(["true"])
    p.wait()  # a pid that no longer exists
    run = make_run_dir(tmp_path / "run")
    monkeypatch.setenv("ALPHANET_PARENT_PID", str(p.pid))
    assert main([run, "--device", "cpu"]) == 0
    assert lines(run)[-1]["status"] == "paused"
    assert os.listdir(os.path.join(run, "checkpoints"))


def test_a_full_disk_fails_the_run_with_one_line_and_keeps_the_last_checkpoint(tmp_path, monkeypatch, capsys):
    import errno
    run = make_run_dir(tmp_path / "run")
    real = C.write_durable
    calls = {"n": 0}

    def full_after_first(path, data):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)
    monkeypatch.setattr(C, "write_durable", full_after_first)
    assert main([run, "--device", "cpu"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk full writing checkpoint" in err[0] and "last good checkpoint is kept" in err[0]
    done = lines(run)[-1]
    assert done["status"] == "failed" and done["error"].startswith("disk full")
    assert os.listdir(os.path.join(run, "checkpoints")) == ["step-00000000-e0.ckpt"]
    C.read(os.path.join(run, "checkpoints", "step-00000000-e0.ckpt"))
