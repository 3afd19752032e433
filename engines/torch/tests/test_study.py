"""The fidelity study's torch cells without Node (alphanet_torch.study): the grid and labels as the workbench's study
writes them, the cell configs, the records of a real run read as the workbench reads them, and a small study end to end."""
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

import pytest

from alphanet_torch import study as S
from conftest import FIXTURES
from rundir import make_run_dir


def test_grid_labels_match_the_workbench_study():
    cells = S.parse_grid("demo:3:kl,adaptive-alpha:0,1")
    assert [(c["loss"], c["seed"]) for c in cells] == [("kl", 0), ("adaptive-alpha", 0), ("kl", 1), ("adaptive-alpha", 1)]
    (c,) = S.parse_grid("fashion-mnist:10:adaptive-alpha:2:distillation.klWarmupEpochs=5,optimizer.lr=0.05")
    # studyVariant in src-main/bench/fidelity.ts: ` [path=JSON, …]` after the loss.
    assert c["loss"] == "adaptive-alpha [distillation.klWarmupEpochs=5, optimizer.lr=0.05]"
    assert S.cell_name(c) == "fidelity torch fashion-mnist 10ep adaptive-alpha [distillation.klWarmupEpochs=5, optimizer.lr=0.05] seed 2"
    assert S.parse_grid("demo:0.5:none:0")[0]["epochs"] == 0.5


@pytest.mark.parametrize("spec, message", [
    ("demo:3:kl", "DATASET:EPOCHS:LOSSES:SEEDS"),
    ("demo:3:kld:0", "unknown loss 'kld'"),
    ("demo:x:kl:0", "epochs is a number"),
    ("demo:3:kl:0:epochs=5", "the study sets 'epochs' itself"),
    ("demo:3:adaptive-alpha:0:distillation.kind=kl", "kind and α"),
    ("demo:3:kl:0:optimizer.lr", "path=value"),
])
def test_bad_grids_are_refused_in_one_line(spec, message):
    with pytest.raises(S.StudyError, match=message.replace("(", r"\(")):
        S.parse_grid(spec)


def test_cell_config_sets_the_axes_and_keeps_the_rest(tmp_path):
    template = json.load(open(os.path.join(make_run_dir(tmp_path / "t"), "config.json")))
    (c,) = S.parse_grid("tiny:2:alpha-1:5:distillation.klWarmupEpochs=1,optimizer.lr=0.05")
    cfg = S.cell_config(template, c, run_id=9)
    assert (cfg["epochs"], cfg["seed"], cfg["runId"], cfg["name"]) == (2, 5, 9, S.cell_name(c))
    assert cfg["distillation"] == {"kind": "alpha", "alpha": -1, "clip": 5, "klWarmupEpochs": 1}
    assert cfg["optimizer"]["lr"] == 0.05 and cfg["optimizer"]["momentum"] == template["optimizer"]["momentum"]
    assert "stepsPerEpoch" not in cfg  # the template's own cap is not the cell's
    assert cfg["space"] == template["space"] and template["distillation"]["kind"] == "adaptive-alpha"  # template untouched
    with pytest.raises(S.StudyError, match="must be below epochs"):
        S.cell_config(template, S.parse_grid("tiny:1:adaptive-alpha:0:distillation.klWarmupEpochs=1")[0], 1)
    with pytest.raises(S.StudyError, match="loss 'kl' has no field 'clip'"):
        S.cell_config(template, S.parse_grid("tiny:1:kl:0:distillation.clip=9")[0], 1)


def test_records_of_a_real_run_equal_what_the_workbench_read_from_its_database(tmp_path):
    with gzip.open(os.path.join(FIXTURES, "torch-progress-demo-3ep-klw2-seed0.jsonl.gz"), "rb") as f:
        (tmp_path / "progress.jsonl").write_bytes(f.read())
    expected = json.load(open(os.path.join(FIXTURES, "torch-progress-demo-3ep-klw2-seed0.records.json")))["records"]
    (c,) = S.parse_grid("demo:3:adaptive-alpha:0:distillation.klWarmupEpochs=2")
    got = S.records_of_run(str(tmp_path), c, "cpu (test)")
    assert len(got) == len(expected) == 4
    for g, e in zip(sorted(got, key=lambda r: r["subnet"]), sorted(expected, key=lambda r: r["subnet"])):
        assert g.pop("device") == "cpu (test)"
        assert set(g) == set(e)
        # The course: the subnet's top-1 after each epoch, and the α₋ share (none while KL warms up), teacher loss, lr.
        assert set(g["course"]) == set(e["course"]) == {"top1", "alphaMinShare", "teacherLoss", "lr"}
        for k, xs in e["course"].items():
            assert len(g["course"][k]) == len(xs) == 3, k
            assert [x is None for x in g["course"][k]] == [x is None for x in xs], k
            assert [x for x in g["course"][k] if x is not None] == pytest.approx([x for x in xs if x is not None], rel=1e-12), k
        assert e["course"]["alphaMinShare"][:2] == [None, None]
        del g["course"], e["course"]
        for k in e:
            if isinstance(e[k], float):
                assert g[k] == pytest.approx(e[k], rel=1e-12), k
            else:
                assert g[k] == e[k], k


def test_a_small_study_trains_records_and_resumes(tmp_path):
    template = make_run_dir(tmp_path / "tiny")
    out = str(tmp_path / "records.json")
    cells = S.parse_grid("tiny:1:kl,none:0")
    lines = []
    status = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), out, parallel=2, device="cpu", log=lines.append, poll=0.1)
    assert status == {S.cell_key(c): "finished" for c in cells}
    records = json.load(open(out))
    # The tiny config validates min, max and one random subnet.
    assert sorted((r["loss"], r["subnet"]) for r in records) == sorted((l, s) for l in ("kl", "none") for s in ("min", "max", "random-1"))
    assert all(0 <= r["top1"] <= 1 and r["device"].startswith("cpu") for r in records)
    kl_min = next(r for r in records if r["loss"] == "kl" and r["subnet"] == "min")
    assert kl_min["divergence"] > 0 and kl_min["alphaMinShare"] is None
    assert all(r["divergence"] is None for r in records if r["loss"] == "none")
    # The cell's run directory is a plain torch run: its config carries the cell's axes.
    kl_dir = os.path.join(tmp_path, "work", "fidelity_torch_tiny_1ep_kl_seed_0")
    assert json.load(open(os.path.join(kl_dir, "config.json")))["distillation"] == {"kind": "kl"}
    # Again: nothing trains, nothing is appended.
    status = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), out, parallel=2, device="cpu", log=lines.append, poll=0.1)
    assert set(status.values()) == {"recorded"} and len(json.load(open(out))) == len(records)


def test_a_failed_cell_is_reported_and_the_others_recorded(tmp_path):
    good = make_run_dir(tmp_path / "good")
    bad = str(tmp_path / "bad")
    shutil.copytree(good, bad)
    with open(os.path.join(bad, "dataset", "train.images.u8"), "r+b") as f:
        f.truncate(100)  # a damaged split: the engine refuses it in one line
    out = str(tmp_path / "records.json")
    cells = S.parse_grid("good:1:kl:0") + S.parse_grid("bad:1:kl:0")
    status = S.run_study({"good": good, "bad": bad}, cells, str(tmp_path / "work"), out, parallel=2, device="cpu", log=lambda s: None, poll=0.1)
    assert status[S.cell_key(cells[0])] == "finished"
    assert status[S.cell_key(cells[1])].startswith("failed: exit") and "damaged" in status[S.cell_key(cells[1])]
    assert {r["dataset"] for r in json.load(open(out))} == {"good"}


def test_a_killed_cell_continues_from_its_checkpoint_on_the_next_study(tmp_path, monkeypatch):
    template = make_run_dir(tmp_path / "tiny")
    out = str(tmp_path / "records.json")
    cells = S.parse_grid("tiny:2:adaptive-alpha:0")
    # The trainer's test hook: the process kills itself (SIGKILL) before step 8 of 10, after the checkpoint of epoch 1.
    monkeypatch.setenv("ALPHANET_TORCH_TEST_KILL_RANK", "0")
    monkeypatch.setenv("ALPHANET_TORCH_TEST_KILL_STEP", "7")
    first = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), out, device="cpu", log=lambda s: None, poll=0.1)
    assert list(first.values())[0].startswith("failed: exit -9") and not os.path.exists(out)
    monkeypatch.delenv("ALPHANET_TORCH_TEST_KILL_STEP")
    lines = []
    second = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), out, device="cpu", log=lines.append, poll=0.1)
    assert list(second.values()) == ["finished"]
    assert any("resuming from its newest checkpoint" in l for l in lines)
    run_dir = os.path.join(tmp_path, "work", "fidelity_torch_tiny_2ep_adaptive-alpha_seed_0")
    progress = [json.loads(l) for l in open(os.path.join(run_dir, "progress.jsonl"))]
    assert [m["kind"] for m in progress if m["type"] == "event" and m["kind"] in ("start", "resume")] == ["start", "resume"]
    # Steps 6 and 7 ran twice (before the kill and after the resume); the records count each step once, the newest.
    steps = [m["step"] for m in progress if m["type"] == "step"]
    assert steps.count(6) == 2 and sorted(set(steps)) == list(range(1, 11))
    newest = {m["step"]: m for m in progress if m["type"] == "step"}
    share = sum(m["alphaMinShare"] for m in newest.values()) / len(newest)
    assert json.load(open(out))[0]["alphaMinShare"] == pytest.approx(share, rel=1e-12)


def test_a_paused_cell_continues_when_the_next_study_asks_for_it_in_another_grid(tmp_path, monkeypatch):
    template = make_run_dir(tmp_path / "tiny")
    out = str(tmp_path / "records.json")
    monkeypatch.setenv("ALPHANET_TORCH_TEST_KILL_RANK", "0")
    monkeypatch.setenv("ALPHANET_TORCH_TEST_KILL_STEP", "7")
    first = S.run_study({"tiny": template}, S.parse_grid("tiny:2:kl:0"), str(tmp_path / "work"), out, device="cpu", log=lambda s: None, poll=0.1)
    assert list(first.values())[0].startswith("failed: exit -9")
    monkeypatch.delenv("ALPHANET_TORCH_TEST_KILL_STEP")
    # The same cell, now second in the queue (it was first): it continues from its checkpoint all the same.
    cells = S.parse_grid("tiny:2:none:0") + S.parse_grid("tiny:2:kl:0")
    lines = []
    second = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), out, device="cpu", log=lines.append, poll=0.1)
    assert list(second.values()) == ["finished", "finished"]
    assert [l for l in lines if "resuming" in l] == [l for l in lines if l.startswith("fidelity torch tiny 2ep kl seed 0: resuming")] != []
    assert S.cell_run_id(cells[1]) == S.cell_run_id(S.parse_grid("tiny:2:kl:0")[0]) != S.cell_run_id(cells[0])


def test_a_run_that_did_not_finish_gives_no_records(tmp_path):
    with gzip.open(os.path.join(FIXTURES, "torch-progress-demo-3ep-klw2-seed0.jsonl.gz"), "rt") as f:
        lines = f.read().splitlines()
    assert json.loads(lines[-1])["status"] == "finished"
    (tmp_path / "progress.jsonl").write_text("\n".join(lines[:-1] + ['{"type":"done","runId":14,"status":"paused","step":400}']) + "\n")
    with pytest.raises(S.StudyError, match="did not finish \\(paused"):
        S.records_of_run(str(tmp_path), S.parse_grid("demo:3:kl:0")[0], "cpu")


def test_a_deadline_that_has_passed_starts_nothing(tmp_path):
    template = make_run_dir(tmp_path / "tiny")
    cells = S.parse_grid("tiny:1:kl:0,1")
    status = S.run_study({"tiny": template}, cells, str(tmp_path / "work"), str(tmp_path / "r.json"), deadline=0, log=lambda s: None, poll=0.1)
    assert all(s.startswith("skipped") for s in status.values()) and not os.path.exists(tmp_path / "r.json")


def test_the_command_line_refuses_a_missing_template(tmp_path, capsys):
    assert S.main(["--grid", "demo:1:kl:0", "--work", str(tmp_path), "--out", str(tmp_path / "r.json")]) == 2
    assert "no --template for dataset 'demo'" in capsys.readouterr().err


def h200_progress() -> bytes:
    """A real cell's step times on the H200 (fixture README): its first try was stopped at step 63 because the deadline
    check judged it on slow first steps; its second try resumed from that checkpoint."""
    with gzip.open(os.path.join(FIXTURES, "h200-fm-3ep-kl-seed0-step-times.jsonl.gz"), "rb") as f:
        return f.read()


def test_a_try_is_judged_only_after_its_slow_first_steps(tmp_path):
    data = h200_progress()
    cut = data.index(b'{"type":"event","kind":"resume"}')
    (tmp_path / "progress.jsonl").write_bytes(data)
    first, whole = S.recent_steps(str(tmp_path), 0)[:63], S.recent_steps(str(tmp_path))
    second = S.recent_steps(str(tmp_path), since=cut)
    assert [x["step"] for x in first] == list(range(1, 64)) and whole[:63] == first
    assert second[0]["step"] == 64 and len(second) == 2138 - 63 and whole[-len(second):] == second
    steady = statistics.mean(x["ms"] for x in second[S.SETTLE_STEPS:])
    # What the old check saw at step 50 (the median of the newest 20) was more than twice the steady step time.
    assert statistics.median(x["ms"] for x in first[30:50]) > 2 * steady
    for t in (first, second):
        assert S.settled_ms(t[:S.SETTLE_STEPS - 1]) is None
        assert S.settled_ms(t[:S.SETTLE_STEPS]) is None or abs(S.settled_ms(t[:S.SETTLE_STEPS]) / steady - 1) < 0.2
    assert S.settled_ms(first) is None  # never judged: it would have finished
    assert abs(S.settled_ms(second[:S.SETTLE_STEPS]) / steady - 1) < 0.2
    assert abs(S.settled_ms(second) / steady - 1) < 0.2


def test_the_cost_of_a_try_s_slow_first_steps_is_what_they_took_beyond_the_settled_rate():
    steps = [{"step": i + 1, "ms": 2000.0 if i < 10 else 100.0} for i in range(S.SETTLE_STEPS + 30)]
    assert S.start_cost_s(steps[: S.SETTLE_STEPS - 1]) is None
    # 10 steps of 2 s where 100 ms each was the rate: 19 s more.
    assert S.start_cost_s(steps) == pytest.approx(19.0)
    data = h200_progress()
    steps = [{"step": m["step"], "ms": m["stepMs"]} for m in map(json.loads, data.decode().splitlines()) if m["type"] == "step"]
    first_try, second = steps[:63], steps[63:]
    assert first_try[-1]["step"] == 63 and second[0]["step"] == 64 and S.start_cost_s(first_try) is None
    # The real resumed try: its first 100 steps took about 95 s more than its settled rate, and the cost plus its steps
    # at the rate seen at step 100 give its whole time on the safe side, within 15 % (414 s for 370).
    assert 80 < S.start_cost_s(second[: S.SETTLE_STEPS]) < 110
    predicted = S.start_cost_s(second[: S.SETTLE_STEPS]) + len(second) * S.settled_ms(second[: S.SETTLE_STEPS]) / 1000
    actual = sum(x["ms"] for x in second) / 1000
    assert actual <= predicted <= 1.15 * actual


def test_a_terminated_study_pauses_its_running_cells_with_a_checkpoint_and_starts_nothing(tmp_path):
    template = make_run_dir(tmp_path / "tiny")
    work, out, status = tmp_path / "work", tmp_path / "r.json", tmp_path / "status.json"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(S.__file__))), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "alphanet_torch.study", "--template", f"tiny={template}", "--grid", "tiny:400:kl:0,1",
                             "--work", str(work), "--out", str(out), "--status", str(status), "--device", "cpu"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    progress = work / "fidelity_torch_tiny_400ep_kl_seed_0" / "progress.jsonl"
    t0 = time.monotonic()
    while not (progress.exists() and progress.read_text().count('{"type":"step"') >= 3):
        assert time.monotonic() - t0 < 60 and proc.poll() is None, proc.stdout.read() if proc.poll() is not None else "no steps in 60 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=60)[0]
    assert proc.returncode == 1, log
    said = json.load(open(status))
    assert said == {S.cell_key(S.parse_grid("tiny:400:kl:0")[0]): "stopped: signal SIGTERM",
                    S.cell_key(S.parse_grid("tiny:400:kl:1")[0]): "skipped: signal SIGTERM"}, log
    lines = [json.loads(l) for l in progress.read_text().splitlines()]
    assert lines[-1]["type"] == "done" and lines[-1]["status"] == "paused"
    assert any(l["type"] == "checkpoint" and l["step"] == lines[-1]["step"] for l in lines)
    assert not (work / "fidelity_torch_tiny_400ep_kl_seed_1").exists() and not out.exists()


def test_a_running_try_is_stopped_when_it_cannot_finish_settled_or_not():
    # Settled: its own step time with the margin (1000 steps × 100 ms × 1.15 = 115 s).
    assert S.too_late(1000, 100.0, None, 116, 1.15) is None
    assert S.too_late(1000, 100.0, 50.0, 114, 1.15) == "would need 115 s more, 114 s left"
    # In its slow first steps: never on its own times; on the settled tries' rate without the margin, or not at all.
    assert S.too_late(1000, None, None, 5, 1.15) is None
    assert S.too_late(1000, None, 100.0, 101, 1.15) is None
    assert S.too_late(1000, None, 100.0, 99, 1.15) == "would need 100 s more, 99 s left"
    # No time left: stopped whatever is known (it ran past the deadline while it settled).
    assert S.too_late(1000, None, None, 0, 1.15) == "no time left"
    assert S.too_late(1, None, None, -3, 1.15) == "no time left"
