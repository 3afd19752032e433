"""The gradient recorder of the fidelity diagnosis (alphanet_torch/gradients.py): each member's gradient against one
computed on its own, recording leaves training unchanged, the run directory is only read, and the CLI's checks."""
import json
import os

import pytest
import torch

from rundir import make_run_dir
from alphanet_torch import gradients as G
from alphanet_torch import train as T
from alphanet_torch.data import train_batch


def first_step_grad(run, members_of):
    """The summed gradient of the members `members_of(all members)` at step 1, computed directly with a fresh trainer."""
    tr = T.Trainer(run, "cpu")
    cfg = tr.cfg
    x, y = train_batch(tr.ds, cfg["seed"], 0, 0, cfg["batchSize"], 0, 1, cfg["augment"])
    members = T.sandwich_members(tr.space, cfg["seed"], 0, cfg["subnetsPerStep"], cfg["sandwichRule"])
    tr.opt.zero_grad()
    T.sandwich_backward(tr.model, tr.num_classes, x, y, members_of(members), cfg, T.regularizer(cfg, cfg["seed"], 0, 0))
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten().double() for p in tr.net.p.values()])


def test_each_members_gradient_is_its_own(tmp_path):
    run = make_run_dir(tmp_path / "run")
    before = sorted(os.listdir(run))
    rows = G.record(run, 3)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [m["role"] for m in rows[0]["members"]] == ["max", "random", "random", "min"]
    assert sorted(os.listdir(run)) == before  # nothing written into the run directory (no progress, no checkpoints)

    teacher = first_step_grad(run, lambda ms: ms[:1])
    assert rows[0]["teacherNorm"] == pytest.approx(float(teacher.norm()), rel=1e-9)
    assert rows[0]["members"][0]["cosTeacher"] == pytest.approx(1.0, abs=1e-12)
    # The min member alone (with its teacher): what the recorder attributed to it among all four.
    alone = first_step_grad(run, lambda ms: [ms[0], ms[3]]) - teacher
    assert rows[0]["members"][3]["norm"] == pytest.approx(float(alone.norm()), rel=1e-6)
    cos = float(torch.dot(alone, teacher) / (alone.norm() * teacher.norm()))
    assert rows[0]["members"][3]["cosTeacher"] == pytest.approx(cos, abs=1e-6)
    assert all(0 <= m["share"] <= 1 for m in rows[0]["members"][1:])  # the run's adaptive α: α₋ shares


def test_recording_does_not_change_training(tmp_path):
    """Six of nine steps with the recorder end on the same weights as six steps of the plain loop."""
    run = make_run_dir(tmp_path / "run", epochs=3, stepsPerEpoch=3)
    captured = {}

    class Stop(Exception):
        pass

    plain = T.sandwich_backward
    calls = []

    def counting(*a, **k):
        calls.append(1)
        if len(calls) > 6:
            raise Stop()
        return plain(*a, **k)

    T.sandwich_backward = counting
    try:
        tr = T.Trainer(str(make_run_dir(tmp_path / "plain", epochs=3, stepsPerEpoch=3)), "cpu")
        with pytest.raises(Stop):
            tr.run()
        captured["plain"] = {k: v.detach().clone() for k, v in tr.net.p.items()}
    finally:
        T.sandwich_backward = plain

    rec_trainer = {}
    real_trainer = T.Trainer

    def keep(*a, **k):
        t = real_trainer(*a, **k)
        rec_trainer["t"] = t
        return t

    T.Trainer = keep
    try:
        G.record(run, 6)
    finally:
        T.Trainer = real_trainer
    # The recorder stops before step 7's backward, as the counting loop above does.
    for k, v in captured["plain"].items():
        assert torch.equal(rec_trainer["t"].net.p[k].detach(), v), k
    assert T.sandwich_backward is plain


def test_distillation_flags_and_cli(tmp_path, capsys):
    assert G.distillation_of("kl", None) == {"kind": "kl"}
    assert G.distillation_of("adaptive-alpha", 1000) == {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 1000}
    assert G.distillation_of("alpha:-1", None) == {"kind": "alpha", "alpha": -1.0, "clip": 5.0}
    with pytest.raises(ValueError, match="--clip applies to"):
        G.distillation_of("kl", 5)
    with pytest.raises(ValueError, match="kl, adaptive-alpha"):
        G.distillation_of("js", None)
    assert G.distillation_of("adaptive-alpha", None, 1.5)["klWarmupEpochs"] == 1.5
    with pytest.raises(ValueError, match="--kl-warmup applies to"):
        G.distillation_of("kl", None, 1)
    with pytest.raises(ValueError, match="--kl-warmup must be ≥ 0"):
        G.distillation_of("alpha:-1", None, -1)

    run = make_run_dir(tmp_path / "run")
    out = tmp_path / "g.jsonl"
    assert G.main([run, "--steps", "4", "--window", "2", "--distillation", "kl", "--out", str(out)]) == 0
    recs = [json.loads(l) for l in out.read_text().splitlines()]
    assert [r["type"] for r in recs] == ["step"] * 4 + ["window"] * 2
    assert recs[-1]["steps"] == [3, 4] and recs[-1]["alphaMinShare"] is None  # KL has no α₋ share
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("steps") and len(table) == 8  # two windows, a blank line, then the window sums
    assert table[4].startswith("summed over each window") and table[5].split()[:3] == ["steps", "all", "classifier"]
    assert G.main([run, "--steps", "99"]) == 2
    assert "the run has 6 steps" in capsys.readouterr().err
    assert G.main([run, "--steps", "2", "--kl-warmup", "1"]) == 2
    assert "--kl-warmup goes with --distillation" in capsys.readouterr().err
    # A KL warm-up of one epoch (3 steps): no α₋ share in its steps, one after them.
    assert G.main([run, "--steps", "4", "--window", "1", "--distillation", "adaptive-alpha", "--kl-warmup", "1", "--out", str(out)]) == 0
    shares = [r["alphaMinShare"] for r in map(json.loads, out.read_text().splitlines()) if r["type"] == "window"]
    assert shares[:3] == [None, None, None] and 0 <= shares[3] <= 1


def test_groups_window_sums_and_shield(tmp_path):
    run = make_run_dir(tmp_path / "run")
    rows = G.record(run, 2, window=1)
    r = rows[0]
    # The groups partition the weights: their squared norms add up to the whole.
    assert sum(g["teacherNorm"] ** 2 for g in r["groups"].values()) == pytest.approx(r["teacherNorm"] ** 2, rel=1e-9)
    assert sum(g["studentsNorm"] ** 2 for g in r["groups"].values()) == pytest.approx(r["studentsNorm"] ** 2, rel=1e-9)
    # A window of one step sums one step: its cosine is the step's.
    assert r["windowSum"]["all"]["studentsCosTeacher"] == pytest.approx(r["studentsCosTeacher"], abs=1e-9)
    assert r["windowSum"]["all"]["studentsOverTeacher"] == pytest.approx(r["studentsNorm"] / r["teacherNorm"], rel=1e-9)
    assert r["members"][0]["loss"] > 0
    assert all(g["studentsNorm"] > 0 for g in r["groups"].values())
    # Windows of two: the sum of steps 1 and 2 lands on step 2; the summary carries it and the teacher's mean loss.
    two = G.record(run, 2, window=2)
    assert "windowSum" not in two[0] and "windowSum" in two[1]
    w = G.summarise(two, 2)[0]
    assert w["windowSum"] == two[1]["windowSum"]
    assert w["teacherLoss"] == pytest.approx((two[0]["members"][0]["loss"] + two[1]["members"][0]["loss"]) / 2)

    # Shielding the classifier: after the sandwich its gradient is the teacher's alone; every other weight's is the
    # sum over all members, as without the shield.
    full = first_step_grad(run, lambda ms: ms)
    teacher = first_step_grad(run, lambda ms: ms[:1])
    tr = T.Trainer(run, "cpu")
    cfg = tr.cfg
    x, y = train_batch(tr.ds, cfg["seed"], 0, 0, cfg["batchSize"], 0, 1, cfg["augment"])
    members = T.sandwich_members(tr.space, cfg["seed"], 0, cfg["subnetsPerStep"], cfg["sandwichRule"])
    rec = G.Recorder(tr.net, 1, window=1, shield=("classifier",))
    tr.opt.zero_grad()
    rec(tr.model, tr.num_classes, x, y, members, cfg, T.regularizer(cfg, cfg["seed"], 0, 0))
    got = torch.cat([p.grad.flatten().double() for p in tr.net.p.values()])
    cls = rec.masks["classifier"]
    assert torch.allclose(got[cls], teacher[cls], rtol=1e-6, atol=1e-9)
    assert torch.allclose(got[~cls], full[~cls], rtol=1e-5, atol=1e-7)
    assert not torch.allclose(full[cls], teacher[cls], rtol=1e-3, atol=1e-6)  # the shield changed something
    assert rec.rows[0]["groups"]["classifier"]["studentsNorm"] == 0
    with pytest.raises(ValueError, match="groups are"):
        G.Recorder(tr.net, 1, shield=("fc",))
    # Trained with the shield, the run's weights differ from the plain run's after a step.
    assert G.main([run, "--steps", "2", "--window", "1", "--shield", "classifier,bn"]) == 0
    assert G.main([run, "--steps", "2", "--shield", "fc"]) == 2
