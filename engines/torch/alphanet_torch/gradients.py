"""Where the distilled members' gradients go, for the fidelity study's diagnosis (docs/FIDELITY.md):

    python3 -m alphanet_torch.gradients <run-dir> --steps 210 [--distillation kl|adaptive-alpha|alpha:<a>]
                                        [--clip <β>] [--kl-warmup <epochs>] [--window 35] [--shield classifier,bn,…] --out grads.jsonl

trains the run directory's config from scratch for `--steps` steps, exactly as `alphanet_torch.train` does (same
members, batches, optimizer and LR schedule of the whole run), and records for every step and member the member's own
gradient: the L2 norm of what its backward added to the shared weights' `.grad`, and its cosine with the max subnet's
label gradient (the teacher's own learning signal, which the distilled members' gradients add to in the same shared
weights), over all shared weights and per group (classifier, head, BN affine, features). Per window of steps it prints
the means: the teacher's label loss and gradient norm, each distilled member's norm relative to it, and the cosine of
the distilled members' sum with the teacher's gradient; then the same ratio and cosine for the gradients summed over
the window, which keeps what persists from step to step (what momentum accumulates) and cancels batch noise.
`--distillation`, `--clip` and `--kl-warmup` replace the run's loss, importance-weight clip β and KL warm-up, so the
same seed compares losses step for step. `--shield` is an intervention: the distilled members do not train the named groups.

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


def distillation_of(text: str, clip: Optional[float], kl_warmup: Optional[float] = None) -> dict:
    """`kl`, `adaptive-alpha`, `alpha:<a>` or `none` as a run config's distillation object (β and the KL warm-up in
    epochs for the α losses)."""
    if text in ("kl", "none"):
        for flag, v in (("--clip", clip), ("--kl-warmup", kl_warmup)):
            if v is not None:
                raise ValueError(f"{flag} applies to adaptive-alpha and alpha:<a>, not {text}")
        return {"kind": text}
    if kl_warmup is not None and kl_warmup < 0:
        raise ValueError(f"--kl-warmup must be ≥ 0 epochs, got {kl_warmup:g}")
    beta = 5.0 if clip is None else clip
    warm = {} if kl_warmup is None else {"klWarmupEpochs": kl_warmup}
    if text == "adaptive-alpha":
        return {"kind": "adaptive-alpha", "alphaMin": -1, "alphaMax": 1, "clip": beta, **warm}
    if text.startswith("alpha:"):
        return {"kind": "alpha", "alpha": float(text.split(":", 1)[1]), "clip": beta, **warm}
    raise ValueError(f"--distillation: kl, adaptive-alpha, alpha:<a> or none, got {text!r}")


GROUPS = ("classifier", "head", "bn", "features")
"""The shared weights by role, for the per-group record and `--shield`: the classifier (`classifier.*`), the head's
convolutions (`head.*` less BN), every BN affine γ and β (`*.bn.*`), and the features (the stem's and blocks'
convolutions and SE)."""


def group_of(name: str) -> str:
    if name.startswith("classifier."):
        return "classifier"
    if ".bn." in name:
        return "bn"
    if name.startswith("head."):
        return "head"
    return "features"


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    na, nb = float(a.norm()), float(b.norm())
    return float(torch.dot(a, b) / (na * nb)) if na > 0 and nb > 0 else float("nan")


class Recorder:
    """Wraps `train.sandwich_backward`: after each member's backward, the member's own gradient is the difference of
    the accumulated `.grad` from the previous member's; norms and cosines against the first member's (the teacher's),
    over all shared weights and per group (`GROUPS`). Per window of `window` steps it also sums the teacher's and the
    distilled members' gradients and records the cosine of the two sums: what persists over steps (what momentum
    accumulates), where the per-step cosine is dominated by batch noise.

    `shield` (default none) names groups whose weights the distilled members do not train: after each distilled
    member's backward their `.grad` is put back to the teacher's, so the teacher alone trains them. An intervention,
    to find which shared weights carry the distilled members' effect on the teacher."""

    def __init__(self, net, steps: int, window: int = 35, shield=()):
        for g in shield:
            if g not in GROUPS:
                raise ValueError(f"--shield: groups are {', '.join(GROUPS)}; got {g!r}")
        self.backward = T.sandwich_backward  # the plain one, before record() puts this recorder in its place
        self.net = net
        self.steps = steps
        self.window = window
        self.shielded = [p for n, p in net.p.items() if group_of(n) in shield]
        self.rows: List[dict] = []
        masks, at = {g: [] for g in GROUPS}, 0
        for n, p in net.p.items():
            for g in GROUPS:
                masks[g].append(torch.full((p.numel(),), g == group_of(n), dtype=torch.bool))
            at += p.numel()
        self.masks = {g: torch.cat(m) for g, m in masks.items()}
        self.sums = [torch.zeros(at, dtype=torch.float64), torch.zeros(at, dtype=torch.float64)]  # teacher, distilled

    def _flat(self) -> torch.Tensor:
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().flatten().double() for p in self.net.p.values()])

    def __call__(self, model, num_classes, x, y, members, cfg, regularize):
        if len(self.rows) >= self.steps:
            raise _Enough()
        grads: List[torch.Tensor] = []
        prev = [torch.zeros(self.sums[0].numel(), dtype=torch.float64)]
        kept: List[torch.Tensor] = []

        def on_member(i: int) -> None:
            if i == 0:
                kept[:] = [p.grad.detach().clone() if p.grad is not None else None for p in self.shielded]
            else:
                for p, g in zip(self.shielded, kept):
                    if g is None:
                        p.grad = None
                    else:
                        p.grad.copy_(g)
            now = self._flat()
            grads.append(now - prev[0])
            prev[0] = now

        res = self.backward(model, num_classes, x, y, members, cfg, regularize, on_member=on_member)
        teacher = grads[0]
        students = torch.stack(grads[1:]).sum(0) if len(grads) > 1 else torch.zeros_like(teacher)
        tn = float(teacher.norm())
        row = {
            "step": len(self.rows) + 1,
            "teacherNorm": tn,
            "members": [{"role": r["role"], "loss": r["loss"], "norm": float(g.norm()), "cosTeacher": _cos(g, teacher), "share": r["share"],
                         "divergence": r["div"]} for r, g in zip(res, grads)],
            "studentsNorm": float(students.norm()),
            "studentsCosTeacher": _cos(students, teacher),
            "groups": {g: {"teacherNorm": float(teacher[m].norm()), "studentsNorm": float(students[m].norm()),
                           "studentsCosTeacher": _cos(students[m], teacher[m])} for g, m in self.masks.items()},
        }
        self.sums[0] += teacher
        self.sums[1] += students
        if row["step"] % self.window == 0 or row["step"] == self.steps:
            t, s = self.sums
            row["windowSum"] = {g: {"studentsOverTeacher": float(s[m].norm()) / float(t[m].norm()) if float(t[m].norm()) > 0 else float("nan"),
                                    "studentsCosTeacher": _cos(s[m], t[m])} for g, m in [("all", slice(None)), *self.masks.items()]}
            t.zero_()
            s.zero_()
        self.rows.append(row)
        return res


def summarise(rows: List[dict], window: int) -> List[dict]:
    """Per window of steps: the teacher's mean label loss and gradient norm, the distilled members' norm over the
    teacher's, their sum's per-step cosine with it, and (from the recorder's window sums) the cosine of the window's
    summed gradients, over all weights and per group."""
    out = []
    for lo in range(0, len(rows), window):
        w = rows[lo:lo + window]
        ratio = [m["norm"] / r["teacherNorm"] for r in w for m in r["members"][1:] if r["teacherNorm"] > 0]
        shares = [m["share"] for r in w for m in r["members"][1:] if m["share"] is not None]
        mean = lambda v: sum(v) / len(v) if v else float("nan")  # noqa: E731
        out.append({
            "steps": [w[0]["step"], w[-1]["step"]],
            "teacherLoss": mean([r["members"][0]["loss"] for r in w]),
            "teacherNorm": mean([r["teacherNorm"] for r in w]),
            "studentOverTeacher": mean(ratio),
            "studentsSumOverTeacher": mean([r["studentsNorm"] / r["teacherNorm"] for r in w if r["teacherNorm"] > 0]),
            "studentsCosTeacher": mean([r["studentsCosTeacher"] for r in w if not math.isnan(r["studentsCosTeacher"])]),
            "alphaMinShare": mean(shares) if shares else None,
            "windowSum": w[-1].get("windowSum"),
        })
    return out


def record(run_dir: str, steps: int, distillation: Optional[dict] = None, device: str = "cpu", window: int = 35,
           shield=()) -> List[dict]:
    """Trains a copy of `run_dir`'s config for `steps` steps; returns one row per step (see `Recorder`; the window
    sums land on each window's last row)."""
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
        rec = Recorder(trainer.net, steps, window, shield)
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
    p.add_argument("--kl-warmup", type=float, help="epochs of KL before the α loss takes over (default 0; needs --distillation)")
    p.add_argument("--window", type=int, default=35)
    p.add_argument("--shield", default="", help=f"comma-separated groups the distilled members do not train: {', '.join(GROUPS)}")
    p.add_argument("--out", help="JSON lines: one per step, then one per window")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args(argv)
    try:
        if a.kl_warmup is not None and not a.distillation:
            raise ValueError("--kl-warmup goes with --distillation adaptive-alpha or alpha:<a>")
        dist = distillation_of(a.distillation, a.clip, a.kl_warmup) if a.distillation else None
        rows = record(a.run_dir, a.steps, dist, a.device, a.window, [g for g in a.shield.split(",") if g])
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
    print("steps      teacher loss  teacher |g|  distilled |g| / teacher's  their sum / teacher's  cos(sum, teacher)  α₋ share")
    for w in windows:
        share = "—" if w["alphaMinShare"] is None else f"{w['alphaMinShare'] * 100:.0f} %"
        print(f"{w['steps'][0]:4d}–{w['steps'][1]:<4d}  {w['teacherLoss']:12.3f}  {w['teacherNorm']:11.4f}  {w['studentOverTeacher']:24.3f}  "
              f"{w['studentsSumOverTeacher']:21.3f}  {w['studentsCosTeacher']:17.3f}  {share:>8}")
    print("\nsummed over each window: the distilled members' sum against the teacher's, norm ratio / cosine, per group")
    print("steps      " + "".join(f"{g:>20}" for g in ("all", *GROUPS)))
    for w in windows:
        cells = "".join(f"{w['windowSum'][g]['studentsOverTeacher']:11.2f} /{w['windowSum'][g]['studentsCosTeacher']:+6.2f} " for g in ("all", *GROUPS))
        print(f"{w['steps'][0]:4d}–{w['steps'][1]:<4d} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
