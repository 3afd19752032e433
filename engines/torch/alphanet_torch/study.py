"""The fidelity study's PyTorch cells without the workbench (docs/FIDELITY.md): for a GPU machine that has python3
and torch but no Node, so no `npm run study`.

    python3 -m alphanet_torch.study --template demo=DIR --template fashion-mnist=DIR \\
        --grid demo:10:kl,adaptive-alpha,none:0,1,2 --grid 'fashion-mnist:3:adaptive-alpha:0,1,2:distillation.klWarmupEpochs=2' \\
        --work WORK --out records.json [--parallel N] [--device cuda] [--deadline SECONDS]

A template DIR is a run directory the workbench wrote for that dataset (`<home>/runs/<id>/`, any loss or schedule):
its config.json (every default filled in, the space inline) and its dataset/ folder (the stored train and val
splits). Each cell's config is the template's with the study's axes set exactly as `alphanet train` sets them for
`npm run study -- fidelity` (name, epochs, seed, the loss's distillation, `--set` style overrides), so a cell trained
here is the cell the workbench would train with `--engine torch`, on this machine's device.

Cells run N at a time, each `python -m alphanet_torch.train <cell dir>` (one rank, one CPU thread), in the order
given. With `--deadline`, a cell is started only when the step times measured so far say it finishes in time, and a
running cell that would not is stopped; neither is recorded. A cell whose run directory already holds a checkpoint of
the same config (stopped, failed or killed before) continues from it (`alphanet_torch.train --resume`). On SIGTERM
or SIGINT the study pauses its running cells, each with a checkpoint, waits for them, and exits without starting more.
Every finished cell is appended to `--out` (temp name + rename) as the workbench study's records (`recordsOfRun`
in src-main/bench/fidelity.ts: one per validated subnet of the last validation, the run's mean α₋ share, the last
epoch's mean divergence of each subnet's sandwich counterpart, the run's course epoch by epoch), plus `device`, the
device it trained on; cells already in `--out` are skipped, so a stopped study resumes.
"""
import argparse
import copy
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zlib
from typing import Dict, List, Optional

# The study's losses by label: the run config's `distillation`, every field at the workbench's default
# (STUDY_DISTILLATION in src-main/bench/fidelity.ts, defaults from DistillationSchema).
DISTILLATION = {
    "adaptive-alpha": {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": 5, "klWarmupEpochs": 0},
    "kl": {"kind": "kl"},
    "alpha-1": {"kind": "alpha", "alpha": -1, "clip": 5, "klWarmupEpochs": 0},
    "alpha+1": {"kind": "alpha", "alpha": 1, "clip": 5, "klWarmupEpochs": 0},
    "none": {"kind": "none"},
}

# Fields the study's own axes set; an override may not change them (STUDY_FIELDS in fidelity.ts).
STUDY_FIELDS = {"name", "dataset", "space", "epochs", "seed", "batchSize", "stepsPerEpoch"}


class StudyError(ValueError):
    """A bad grid, template or override: one line for the user."""


def parse_set(text: str):
    """`path=value` → (path, value); the value is JSON when it parses, else text (as the workbench's `--set`)."""
    path, sep, raw = text.partition("=")
    if not sep or not path or not all(k and k[0].isalpha() and k.isalnum() for k in path.split(".")):
        raise StudyError(f"an override is path=value (e.g. distillation.klWarmupEpochs=2), got '{text}'")
    keys = path.split(".")
    if keys[0] in STUDY_FIELDS:
        raise StudyError(f"override {path}: the study sets '{keys[0]}' itself")
    if keys[0] == "distillation" and (len(keys) != 2 or keys[1] in ("kind", "alpha")):
        raise StudyError(f"override {path}: the loss sets the distillation's kind and α; set one of its other fields")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return path, value


def loss_label(base: str, sets: List[tuple]) -> str:
    """The cell's loss label as the workbench's study writes it: `kl`, or `adaptive-alpha [a.b=1, c=2]`."""
    if not sets:
        return base
    return base + " [" + ", ".join(f"{p}={json.dumps(v)}" for p, v in sets) + "]"


def parse_grid(spec: str) -> List[dict]:
    """`DATASET:EPOCHS:LOSS[,LOSS…]:SEED[,SEED…][:path=value[,path=value…]]` → cells, seed-major as the workbench's study."""
    parts = spec.split(":", 4)
    if len(parts) < 4:
        raise StudyError(f"a grid is DATASET:EPOCHS:LOSSES:SEEDS[:OVERRIDES], got '{spec}'")
    dataset, epochs, losses, seeds = parts[:4]
    sets = [parse_set(s) for s in parts[4].split(",")] if len(parts) == 5 and parts[4] else []
    try:
        ep = float(epochs)
        seed_list = [int(s) for s in seeds.split(",")]
    except ValueError:
        raise StudyError(f"grid '{spec}': epochs is a number and seeds are integers") from None
    if ep <= 0:
        raise StudyError(f"grid '{spec}': epochs must be positive")
    ep = int(ep) if ep.is_integer() else ep
    cells = []
    for seed in seed_list:
        for base in losses.split(","):
            if base not in DISTILLATION:
                raise StudyError(f"grid '{spec}': unknown loss '{base}' (one of {', '.join(DISTILLATION)})")
            cells.append({"dataset": dataset, "epochs": ep, "base": base, "loss": loss_label(base, sets), "seed": seed, "sets": sets})
    return cells


def cell_key(c: dict) -> str:
    return json.dumps(["torch", c["dataset"], c["epochs"], c["loss"], c["seed"]])


def cell_run_id(c: dict) -> int:
    """The cell's run id in its config: fixed by the cell alone, so a paused cell's config, and with it its checkpoint,
    is the same whatever grid or order a later study gives (it was the cell's place in the queue, which a changed grid
    moved: the cell then started again from step 0)."""
    return 1000 + zlib.crc32(cell_key(c).encode("utf-8")) % 1_000_000


def cell_name(c: dict) -> str:
    """The run name the workbench's study gives the cell (`cellRunName`, without the length cut)."""
    cap = c.get("stepsPerEpoch")
    return f"fidelity torch {c['dataset']} {c['epochs']}ep {c['loss']} seed {c['seed']}" + (f" {cap} steps/ep" if cap else "")


def cell_config(template: dict, c: dict, run_id: int) -> dict:
    """The template's config with the cell's axes and overrides; checkpoints only at epoch ends and every 500 steps
    (where they land does not change the training)."""
    cfg = copy.deepcopy(template)
    cfg.update({"name": cell_name(c), "epochs": c["epochs"], "seed": c["seed"], "runId": run_id,
                "distillation": copy.deepcopy(DISTILLATION[c["base"]])})
    cfg.pop("stepsPerEpoch", None)
    if c.get("stepsPerEpoch"):
        cfg["stepsPerEpoch"] = c["stepsPerEpoch"]
    for path, value in c["sets"]:
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            if not isinstance(node.setdefault(k, {}), dict):
                raise StudyError(f"override {path}: '{k}' is a value in the template config")
            node = node[k]
        if keys[0] == "distillation" and keys[-1] not in node:
            raise StudyError(f"override {path}: loss '{c['base']}' has no field '{keys[-1]}'")
        node[keys[-1]] = value
    kw = cfg["distillation"].get("klWarmupEpochs", 0)
    if kw and kw >= cfg["epochs"]:
        raise StudyError(f"{cell_name(c)}: distillation.klWarmupEpochs must be below epochs ({cfg['epochs']}), got {kw}")
    cfg["checkpoint"] = {**cfg.get("checkpoint", {}), "everySteps": 500}
    return cfg


def records_of_run(run_dir: str, c: dict, device: str) -> List[dict]:
    """The records of a finished cell from its progress.jsonl, as `recordsOfRun` reads the workbench's database: each
    validated subnet's end, the run's α₋ share, the last epoch's divergences, and the run's course epoch by epoch."""
    by_step, epochs, done = {}, [], None
    with open(os.path.join(run_dir, "progress.jsonl"), "r", encoding="utf-8") as f:
        for line in f:
            m = json.loads(line)
            if m["type"] == "done":
                done = m
            elif m["type"] == "step":
                # A resumed run trains again the steps after its checkpoint: the newest line of a step is the one that
                # counts, as the workbench's store keeps one row per step.
                by_step[m["step"]] = m
            elif m["type"] == "epoch":
                epochs.append(m)
    steps = [by_step[k] for k in sorted(by_step)]
    if done is None or done.get("status") != "finished":
        # Paused (a signal, a deadline) or failed: its validations so far are no result.
        raise StudyError(f"{run_dir}: the run did not finish ({'no outcome' if done is None else done.get('status')} at step {len(by_step)})")
    if not epochs:
        raise StudyError(f"{run_dir}: no validation")
    last = max(e["epoch"] for e in epochs)

    def mean(xs: List[float]) -> Optional[float]:
        return sum(xs) / len(xs) if xs else None

    share = mean([s["alphaMinShare"] for s in steps if s.get("alphaMinShare") is not None])

    # The run's course epoch by epoch (index i: after epoch i + 1), as the workbench's `recordsOfRun` reads it.
    by_epoch = [[s for s in steps if s["epoch"] == i] for i in range(last + 1)]

    def divergence(role: str) -> Optional[float]:
        return mean([l["divergence"] for s in by_epoch[last] for l in s["losses"]
                     if l["role"] == role and isinstance(l.get("divergence"), (int, float))])

    # A resumed run may have validated an epoch twice; the store keeps the newest validation of each epoch.
    newest = {e["epoch"]: e for e in epochs}
    final = newest[last]
    run_course = {
        "alphaMinShare": [mean([s["alphaMinShare"] for s in ss if s.get("alphaMinShare") is not None]) for ss in by_epoch],
        "teacherLoss": [mean([l["loss"] for s in ss for l in s["losses"] if l["role"] == "max"]) for ss in by_epoch],
        "lr": [ss[-1]["lr"] if ss else None for ss in by_epoch],
    }

    def top1_course(subnet: str) -> List[Optional[float]]:
        return [next((v["valTop1"] for v in newest[i]["subnets"] if v["subnet"] == subnet), None) if i in newest else None
                for i in range(last + 1)]

    return [{"engine": "torch", "dataset": c["dataset"], "epochs": c["epochs"], "loss": c["loss"], "seed": c["seed"],
             "subnet": s["subnet"], "top1": s["valTop1"], "alphaMinShare": share,
             "divergence": None if s["subnet"] == "max" else divergence("min" if s["subnet"] == "min" else "random"),
             "course": {"top1": top1_course(s["subnet"]), **run_course},
             "device": device} for s in final["subnets"]]


def read_records(path: str) -> List[dict]:
    if not os.path.exists(path):
        return []
    with open(path, "r", encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise StudyError(f"{path}: not a study results file (expected a JSON array)")
    return data


def write_json(path: str, data) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def steps_per_epoch(template_dir: str, cfg: dict) -> int:
    """As the trainer counts them: the training split's whole batches, capped by `stepsPerEpoch`."""
    with open(os.path.join(template_dir, "dataset", "index.json"), "r", encoding="utf-8") as f:
        n = int(json.load(f)["splits"]["train"]["count"]) // cfg["batchSize"]
    return min(cfg.get("stepsPerEpoch") or n, n)


def recent_steps(run_dir: str, since: int = 0) -> List[dict]:
    """The step lines in the last 400 kB of a cell's progress file (its newest few hundred steps), oldest first; with
    `since` (a byte offset: the file's size when this try began), only the lines written after it."""
    try:
        with open(os.path.join(run_dir, "progress.jsonl"), "rb") as f:
            f.seek(0, os.SEEK_END)
            start = max(since, f.tell() - 400 * 1024)
            f.seek(start)
            tail = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    if start > since:
        tail = tail[1:]  # the first line was cut
    out = []
    for line in tail:
        if line.startswith('{"type":"step"'):
            try:
                m = json.loads(line)
                out.append({"step": int(m["step"]), "ms": float(m["stepMs"])})
            except (ValueError, KeyError):
                pass
    return out


# A try's first steps are slow, and not for a few steps only: on the H200 with 6–21 cells starting at once, the first
# takes 11–14 s, the next ~25 take 1–4 s, and until about step 80 fast steps (~130 ms) alternate with slow ones
# (~500 ms), presumably cuDNN picking kernels for each new shape; a resumed try starts the same way. Judged at step
# 50 on its newest 20 steps, every Fashion-MNIST cell of 2026-12-04's second GPU session looked 3–10× slower than it
# was and was stopped (one that was not finished 2,529 steps in 412 s). So a try is judged only once it has taken
# SETTLE_STEPS steps, on the median of its newest RATE_WINDOW: at 100 steps that median was within 20 % of the steady
# step time on every trace of that session.
SETTLE_STEPS = 100
RATE_WINDOW = 40


def settled_ms(steps: List[dict]) -> Optional[float]:
    """A try's step time (ms) from its step lines, oldest first, or None while it is still in its slow first steps."""
    if len(steps) < SETTLE_STEPS:
        return None
    return statistics.median(x["ms"] for x in steps[-RATE_WINDOW:])


def too_late(steps_left: int, own_ms: Optional[float], others_ms: Optional[float], left_s: float, margin: float) -> Optional[str]:
    """Why a running try cannot finish in the `left_s` seconds left, or None while it may. A settled try is judged on its
    own step time (with the margin); one still in its slow first steps only on the settled tries' step time, without
    the margin (its own steps will be no faster), and in any case once no time is left."""
    if own_ms is not None:
        need = steps_left * own_ms * margin / 1000
    elif others_ms is not None:
        need = steps_left * others_ms / 1000
    else:
        need = 0.0
    if need > left_s or left_s <= 0:
        return f"would need {need:.0f} s more, {max(0, left_s):.0f} s left" if need > 0 else "no time left"
    return None


def start_cost_s(steps: List[dict]) -> Optional[float]:
    """What a try's slow first steps cost (s) beyond its settled step time, or None before it has settled: the time of
    its first SETTLE_STEPS steps less that many steps at its settled rate. A cell started later pays it too."""
    rate = settled_ms(steps)
    if rate is None:
        return None
    return max(0.0, sum(x["ms"] for x in steps[:SETTLE_STEPS]) - SETTLE_STEPS * rate) / 1000


def last_step(run_dir: str) -> int:
    steps = recent_steps(run_dir)
    return steps[-1]["step"] if steps else 0


def device_name(device: str) -> str:
    import torch
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return f"cuda ({torch.cuda.get_device_name(0)}, torch {torch.__version__})"
    return f"cpu (torch {torch.__version__})"


def run_study(templates: Dict[str, str], cells: List[dict], work: str, out: str, parallel: int = 1, device: str = "auto",
              deadline: Optional[float] = None, log=print, poll: float = 1.0, steps_per_epoch_cap: Optional[int] = None) -> dict:
    """Trains the cells not yet in `out`; returns {key: status} for every cell asked for. `steps_per_epoch_cap`: shorter
    epochs for a quick look, named in the run names (the workbench study's `--steps-per-epoch`)."""
    cells = [{**c, "stepsPerEpoch": steps_per_epoch_cap} if steps_per_epoch_cap else c for c in cells]
    for c in cells:
        if c["dataset"] not in templates:
            raise StudyError(f"no --template for dataset '{c['dataset']}'")
    tmpl = {}
    for name, d in templates.items():
        try:
            with open(os.path.join(d, "config.json"), "r", encoding="utf-8") as f:
                tmpl[name] = json.load(f)
        except (OSError, ValueError) as e:
            raise StudyError(f"template {name}: cannot read {d}/config.json: {e}") from None
        if not os.path.exists(os.path.join(d, "dataset", "index.json")):
            raise StudyError(f"template {name}: {d}/dataset/index.json is missing")
    dev = device_name(device)
    os.makedirs(work, exist_ok=True)
    records = read_records(out)
    done = {json.dumps(["torch", r["dataset"], r["epochs"], r["loss"], r["seed"]]) for r in records}
    status = {cell_key(c): "recorded" for c in cells if cell_key(c) in done}
    queue = [c for c in cells if cell_key(c) not in done]
    # Every cell's config is built (and its overrides checked) before anything trains.
    plans = []
    for c in queue:
        cfg = cell_config(tmpl[c["dataset"]], c, run_id=cell_run_id(c))
        plans.append({"cell": c, "cfg": cfg, "steps": c["epochs"] * steps_per_epoch(templates[c["dataset"]], cfg),
                      "dir": os.path.join(work, re.sub(r"[^A-Za-z0-9.+-]+", "_", cell_name(c)))})
    t_start = time.monotonic()
    running: List[dict] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                                      os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def left() -> float:
        return float("inf") if deadline is None else deadline - (time.monotonic() - t_start)

    def resumable(p: dict) -> bool:
        """The cell's run directory holds a checkpoint of this very config (a stopped, failed or killed earlier try)."""
        try:
            with open(os.path.join(p["dir"], "config.json"), "r", encoding="utf-8") as f:
                same = json.load(f) == p["cfg"]
            return same and any(n.startswith("step-") and n.endswith(".ckpt") for n in os.listdir(os.path.join(p["dir"], "checkpoints")))
        except (OSError, ValueError):
            return False

    def remaining(p: dict) -> int:
        return p["steps"] - (last_step(p["dir"]) if resumable(p) else 0)

    def start(p: dict) -> None:
        resume = resumable(p)
        if not resume:
            if os.path.exists(p["dir"]):
                shutil.rmtree(p["dir"])
            os.makedirs(p["dir"])
            os.symlink(os.path.abspath(os.path.join(templates[p["cell"]["dataset"]], "dataset")), os.path.join(p["dir"], "dataset"))
            write_json(os.path.join(p["dir"], "config.json"), p["cfg"])
        try:
            p["since"] = os.path.getsize(os.path.join(p["dir"], "progress.jsonl"))  # this try's steps come after it
        except OSError:
            p["since"] = 0
        with open(os.path.join(p["dir"], "control"), "w"):
            pass  # an earlier stop's request must not stop this try
        err = open(os.path.join(p["dir"], "stderr.txt"), "w")
        p["proc"] = subprocess.Popen([sys.executable, "-m", "alphanet_torch.train", p["dir"], "--device", device, "--threads", "1",
                                      *(["--resume"] if resume else [])], env=env, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        p["t0"] = time.monotonic()
        running.append(p)
        log(f"{cell_name(p['cell'])}: " + (f"resuming from its newest checkpoint ({p['steps']} steps in all)…" if resume else f"training ({p['steps']} steps)…"))

    def stop(p: dict, why: str) -> None:
        # Paused, not cancelled: the trainer writes a checkpoint, from which a later study continues the cell.
        with open(os.path.join(p["dir"], "control"), "w") as f:
            f.write("pause")
        try:
            p["proc"].wait(timeout=30)
        except subprocess.TimeoutExpired:
            p["proc"].kill()
            p["proc"].wait()
        running.remove(p)
        status[cell_key(p["cell"])] = f"stopped: {why}"
        log(f"{cell_name(p['cell'])}: stopped at step {last_step(p['dir'])}/{p['steps']}: {why}")

    margin = 1.15  # step times grow a little under load; validation takes a few seconds more
    ms: Optional[float] = None  # the newest median step time (ms), kept when no cell runs
    costs: List[float] = []  # what each try's slow first steps cost (s), measured once it settled
    # SIGTERM or SIGINT (a scheduler's or a `timeout`'s end, Ctrl-C): every running cell is paused with a checkpoint
    # and waited for, and nothing else starts, so the next study continues them.
    signalled: List[int] = []
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            handlers[sig] = signal.signal(sig, lambda n, _frame: signalled.append(n))
    try:
        while plans or running:
            for p in list(running):
                code = p["proc"].poll()
                if code is None:
                    continue
                running.remove(p)
                secs = time.monotonic() - p["t0"]
                key = cell_key(p["cell"])
                try:
                    if code != 0:
                        raise StudyError(f"exit {code}: {read_tail(os.path.join(p['dir'], 'stderr.txt'))}")
                    rows = records_of_run(p["dir"], p["cell"], dev)
                except (StudyError, OSError, ValueError) as e:
                    status[key] = f"failed: {e}"
                    log(f"{cell_name(p['cell'])}: failed: {e}")
                    continue
                records = read_records(out) + rows
                write_json(out, records)
                status[key] = "finished"
                top = {r["subnet"]: r["top1"] for r in rows}
                log(f"{cell_name(p['cell'])}: min {100 * top.get('min', float('nan')):.1f} %, max {100 * top.get('max', float('nan')):.1f} % "
                    f"in {secs:.0f} s")
            if signalled:
                break  # after the cells that finished meanwhile are recorded
            # A try is judged once its steps have settled (settled_ms); a cell started now may expect the median of the
            # running tries' settled step times, after the median cost of their slow first steps.
            tries = {id(p): recent_steps(p["dir"], p["since"]) for p in running}
            rates = {k: settled_ms(t) for k, t in tries.items()}
            settled = [r for r in rates.values() if r is not None]
            ms = statistics.median(settled) if settled else ms
            for p in running:
                if "cost" not in p and rates[id(p)] is not None:
                    # Measured when the try settles: later, its first steps have left the progress file's read tail.
                    p["cost"] = start_cost_s(tries[id(p)])
                    costs.append(p["cost"])
            cost = statistics.median(costs) if costs else 0.0
            if deadline is not None:
                for p in list(running):
                    t = tries[id(p)]
                    done = t[-1]["step"] if t else last_step(p["dir"])  # a try with no step yet: where it resumed
                    why = too_late(p["steps"] - done, rates[id(p)], ms, left(), margin)
                    if why:
                        stop(p, why)
            while plans and len(running) < parallel and left() > 0:
                # In order, the first cell that the step times so far say finishes in time (any, before they are known).
                fit = next((q for q in plans if ms is None or cost + remaining(q) * ms * margin / 1000 <= left()), None)
                if fit is None:
                    break
                plans.remove(fit)
                start(fit)
            if not running and plans:
                # Nothing runs and nothing fits: what is left cannot finish before the deadline.
                for q in plans:
                    status[cell_key(q["cell"])] = f"skipped: {remaining(q)} steps would not finish in {max(0, left()):.0f} s"
                    log(f"{cell_name(q['cell'])}: skipped, would not finish before the deadline")
                plans.clear()
            time.sleep(poll)
        if signalled:
            why = f"signal {signal.Signals(signalled[0]).name}"
            for p in list(running):
                stop(p, why)
            for q in plans:
                status[cell_key(q["cell"])] = f"skipped: {why}"
            plans.clear()
    finally:
        for sig, h in handlers.items():
            signal.signal(sig, h)
    return status


def read_tail(path: str) -> str:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f.read().strip().splitlines() if l.strip()]
        return lines[-1] if lines else "no message"
    except OSError:
        return "no message"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m alphanet_torch.study", description=__doc__.split("\n\n")[0])
    p.add_argument("--template", action="append", default=[], metavar="DATASET=DIR", help="a workbench run directory of that dataset")
    p.add_argument("--grid", action="append", default=[], help="DATASET:EPOCHS:LOSSES:SEEDS[:path=value,…], in order of priority")
    p.add_argument("--work", required=True, help="folder of the cells' run directories")
    p.add_argument("--out", required=True, help="results file (JSON array of study records)")
    p.add_argument("--parallel", type=int, default=1, help="cells trained at once (default 1)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--deadline", type=float, default=None, help="seconds: start or keep only cells that finish by then")
    p.add_argument("--steps-per-epoch", type=int, default=None, help="cap on steps per epoch (a quick look)")
    p.add_argument("--status", default=None, help="write each cell's outcome here (JSON)")
    a = p.parse_args(argv)
    try:
        templates = {}
        for t in a.template:
            name, sep, d = t.partition("=")
            if not sep:
                raise StudyError(f"--template is DATASET=DIR, got '{t}'")
            templates[name] = d
        cells = [c for g in a.grid for c in parse_grid(g)]
        if not cells:
            raise StudyError("no cells: give at least one --grid")
        if a.parallel < 1:
            raise StudyError("--parallel must be at least 1")
        status = run_study(templates, cells, a.work, a.out, a.parallel, a.device, a.deadline,
                           log=lambda s: print(s, flush=True), steps_per_epoch_cap=a.steps_per_epoch)
    except StudyError as e:
        print(f"alphanet_torch.study: {e}", file=sys.stderr)
        return 2
    if a.status:
        write_json(a.status, status)
    counts: Dict[str, int] = {}
    for s in status.values():
        counts[s.split(":")[0]] = counts.get(s.split(":")[0], 0) + 1
    print("cells: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), flush=True)
    return 0 if all(s in ("finished", "recorded") for s in status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
