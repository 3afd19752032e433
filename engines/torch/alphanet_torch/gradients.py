"""Where the distilled members' gradients go, for the fidelity study's diagnosis (docs/FIDELITY.md):

    python3 -m alphanet_torch.gradients <run-dir> --steps 210 [--distillation kl|adaptive-alpha|alpha:<a>]
                                        [--clip <β>] [--window 35] --out grads.jsonl

trains the run directory's config from scratch for `--steps` steps, exactly as `alphanet_torch.train` does (same
members, batches, optimizer and LR schedule of the whole run), and records for every step and member the member's own
gradient: the L2 norm of what its backward added to the shared weights' `.grad`, and its cosine with the max subnet's
label gradient (the teacher's own learning signal, which the distilled members' gradients add to in the same shared
weights). Per window of steps it prints the means: the teacher's norm, each distilled member's norm relative to it,
and the cosine of the distilled members' sum with the teacher's gradient. `--distillation` and `--clip` replace the
run's loss and importance-weight clip β, so the same seed compares losses step for step.

The run directory is only read: its config (changed as asked, no validation before the last epoch) and its dataset
train in a temporary directory that is removed afterwards. One process, CPU or the run's device.
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from typing import Dict, List, Optional

import torch

from . import train as T


class _Enough(Exception):
    """Raised by the recorder after the last step asked for: ends the training loop there."""


def distillation_of(text: str, clip: Optional[float]) -> dict:
    """`kl`, `adaptive-alpha`, `alpha:<a>` or `none` as a run config's distillation object (β for the α losses)."""
    if text in ("kl", "none"):
        if clip is not None:
            raise ValueError(f"--clip applies to adaptive-alpha and alpha:<a>, not {text}")
        return {"kind": text}
    beta = 5.0 if clip is None else clip
    if text == "adaptive-alpha":
        return {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": beta}
    if text.startswith("alpha:"):
        return {"kind": "alpha", "alpha": float(text.split(":", 1)[1]), "clip": beta}
    raise ValueError(f"--distillation: kl, adaptive-alpha, alpha:<a> or none, got {text!r}")


class Recorder:
    """Wraps `train.sandwich_backward`: after each member's backward, the member's own gradient is the difference of
    the accumulated `.grad` from the previous member's; norms and cosines against the first member's (the teacher's)."""

    def __init__(self, net, steps: int):
        self.backward = T.sandwich_backward  # the plain one, before record() puts this recorder in its place
        self.net = net
        self.steps = steps
        self.rows: List[dict] = []

    def _flat(self) -> torch.Tensor:
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().flatten().double() for p in self.net.p.values()])

    def __call__(self, model, num_classes, x, y, members, cfg, regularize):
        if len(self.rows) >= self.steps:
            raise _Enough()
        grads: List[torch.Tensor] = []
        prev = [torch.zeros(sum(p.numel() for p in self.net.p.values()), dtype=torch.float64)]

        def on_member(i: int) -> None:
            now = self._flat()
            grads.append(now - prev[0])
            prev[0] = now

        res = self.backward(model, num_classes, x, y, members, cfg, regularize, on_member=on_member)
        teacher = grads[0]
        tn = float(teacher.norm())
        students = torch.stack(grads[1:]).sum(0) if len(grads) > 1 else torch.zeros_like(teacher)
        cos = lambda a, b: float(torch.dot(a, b) / (a.norm() * b.norm())) if float(a.norm()) > 0 and float(b.norm()) > 0 else float("nan")  # noqa: E731
        self.rows.append({
            "step": len(self.rows) + 1,
            "teacherNorm": tn,
            "members": [{"role": r["role"], "norm": float(g.norm()), "cosTeacher": cos(g, teacher), "share": r["share"], "divergence": r["div"]}
                        for r, g in zip(res, grads)],
            "studentsNorm": float(students.norm()),
            "studentsCosTeacher": cos(students, teacher),
        })
        return res


def summarise(rows: List[dict], window: int) -> List[dict]:
    """Per window of steps: mean teacher norm, distilled members' norm over the teacher's, their sum's cosine with it."""
    out = []
    for lo in range(0, len(rows), window):
        w = rows[lo:lo + window]
        ratio = [m["norm"] / r["teacherNorm"] for r in w for m in r["members"][1:] if r["teacherNorm"] > 0]
        shares = [m["share"] for r in w for m in r["members"][1:] if m["share"] is not None]
        mean = lambda v: sum(v) / len(v) if v else float("nan")  # noqa: E731
        out.append({
            "steps": [w[0]["step"], w[-1]["step"]],
            "teacherNorm": mean([r["teacherNorm"] for r in w]),
            "studentOverTeacher": mean(ratio),
            "studentsSumOverTeacher": mean([r["studentsNorm"] / r["teacherNorm"] for r in w if r["teacherNorm"] > 0]),
            "studentsCosTeacher": mean([r["studentsCosTeacher"] for r in w if not math.isnan(r["studentsCosTeacher"])]),
            "alphaMinShare": mean(shares) if shares else None,
        })
    return out


def record(run_dir: str, steps: int, distillation: Optional[dict] = None, device: str = "cpu") -> List[dict]:
    """Trains a copy of `run_dir`'s config for `steps` steps; returns one row per step (see `Recorder`)."""
    with open(os.path.join(run_dir, "config.json"), "r", encoding="utf-8") as f:
        cfg = json.load(f)
    if distillation is not None:
        cfg["distillation"] = distillation
    cfg["validation"] = {**cfg["validation"], "everyEpochs": 0}
    cfg["checkpoint"] = {**cfg["checkpoint"], "everySteps": 10 ** 9}
    tmp = tempfile.mkdtemp(prefix="alphanet-gradients-")
    try:
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        os.symlink(os.path.abspath(os.path.join(run_dir, "dataset")), os.path.join(tmp, "dataset"))
        trainer = T.Trainer(tmp, device)
        if steps > trainer.total_steps:
            raise ValueError(f"--steps {steps}: the run has {trainer.total_steps} steps")
        rec = Recorder(trainer.net, steps)
        T.sandwich_backward = rec  # the loop calls it through the module, as it calls every other piece
        try:
            trainer.run()
        except _Enough:
            pass
        finally:
            T.sandwich_backward = rec.backward
        return rec.rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m alphanet_torch.gradients", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--distillation", help="kl, adaptive-alpha, alpha:<a> or none (default: the run's)")
    p.add_argument("--clip", type=float, help="the importance-weight clip β of the α losses (default 5)")
    p.add_argument("--window", type=int, default=35)
    p.add_argument("--out", help="JSON lines: one per step, then one per window")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args(argv)
    try:
        dist = distillation_of(a.distillation, a.clip) if a.distillation else None
        rows = record(a.run_dir, a.steps, dist, a.device)
    except (ValueError, OSError, T.TrainError) as e:
        print(f"alphanet_torch.gradients: {e}", file=sys.stderr)
        return 2
    windows = summarise(rows, a.window)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"type": "step", **r}) + "\n")
            for w in windows:
                f.write(json.dumps({"type": "window", **w}) + "\n")
    print("steps      teacher |g|  distilled |g| / teacher's  their sum / teacher's  cos(sum, teacher)  α₋ share")
    for w in windows:
        share = "—" if w["alphaMinShare"] is None else f"{w['alphaMinShare'] * 100:.0f} %"
        print(f"{w['steps'][0]:4d}–{w['steps'][1]:<4d}  {w['teacherNorm']:10.4f}  {w['studentOverTeacher']:24.3f}  {w['studentsSumOverTeacher']:21.3f}  {w['studentsCosTeacher']:17.3f}  {share:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
