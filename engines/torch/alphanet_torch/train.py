"""Sandwich-rule supernet training with DistributedDataParallel:

    torchrun --nproc-per-node N -m alphanet_torch.train <run-dir> [--resume] [--device auto|cpu|cuda]

The run directory (docs/TORCH.md; the workbench writes it, a Slurm job can too):
    config.json             the run's training config with every default filled in (src-main/train/config.ts), its
                            `space` an inline space object, plus `runId` and `numClasses`
    dataset/                the data (data.py)
    checkpoints/            step-<8 digits>-e<epoch>.ckpt, the workbench's ANCKPT01 format, written by rank 0 to a
                            temp name and renamed; the newest `checkpoint.keepLast` and the best are kept
    progress.jsonl          one JSON object per line, appended by rank 0: the workbench runner's messages
                            (`progress`, `epoch`, `event`, `done`, src-main/train/messages.ts) plus `step` (every
                            step: the store's step_metrics row) and `checkpoint` {step, epoch, path, sha256, bytes,
                            metric?}; `epoch` subnets also carry `genome` and `valImages`
    control                 written by whoever controls the run: `pause` (checkpoint and stop) or `cancel` (stop);
                            rank 0 reads it between steps and broadcasts the decision. SIGINT/SIGTERM pause too.

Per step (docs/TRAINING.md "The loop"): the members (max, random…, min) from the step's own RNG, the same on every
rank; each rank runs them on its shard of the global batch with its own BN batch statistics (the reference's per-GPU
BN); the max subnet on the labels with dropout and drop-connect, its detached logits the teacher of the others;
every member's backward adds to `.grad`, averaged over ranks by DDP, so the update is the rank-mean of the per-rank
sums over members. Then the NaN guard, clipping by value, Nesterov SGD, the warmup-cosine LR.

Exit codes: 0 finished, paused or cancelled; 1 failed (one line on stderr, a `done` line with the error); 2 bad setup.
"""
import argparse
import errno
import glob
import hashlib
import json
import math
import os
import random
import signal
import sys
import time
from typing import Callable, List, Optional

import torch
import torch.distributed as dist

from . import checkpoint as C, malloc
from .data import RunDataset, calibration_batches, train_batch, val_batches
from .losses import distillation_loss, label_smoothed_cross_entropy
from .optim import NesterovSgd, learning_rate
from .rng import WorkbenchRng
from .spaces import cost, genome_id, max_genome, min_genome, parse_space, random_genome
from .supernet import Regularize, Supernet, calibrate_bn, evaluate


class TrainError(RuntimeError):
    """A failure meant for the user: one line."""


# ---------------------------------------------------------------------------------------------------------------------
# Pieces shared with the tests (the sequential reference of a DDP step uses the same functions).

def step_seed(*parts: int) -> int:
    return int.from_bytes(hashlib.sha256(",".join(map(str, parts)).encode()).digest()[:8], "little") & (2 ** 63 - 1)


def validation_subnets(space: dict, seed: int, n: int) -> List[tuple]:
    """The subnets every validation measures: ("min", …), ("max", …), then ("random-1", …) … ("random-n", …) drawn from
    the workbench's own Rng seeded `seed + 0xa11` (`validationSubnets` in src-main/train/trainer.ts), so both engines
    validate the same random subnets of a seed. Until 2026-12-07 they were drawn from Python's `random.Random`."""
    return _min_max_and_random(space, WorkbenchRng(seed + 0xA11), n)


def legacy_validation_subnets(space: dict, seed: int, n: int) -> List[tuple]:
    """What `validation_subnets` drew before 2026-12-07 (Python's `random.Random`): a run resumed from a checkpoint
    of that time keeps validating these, so its curves stay one series."""
    return _min_max_and_random(space, random.Random(step_seed(seed, 0xA11)), n)


def _min_max_and_random(space: dict, rng, n: int) -> List[tuple]:
    return [("min", min_genome(space)), ("max", max_genome(space))] + [
        (f"random-{i + 1}", random_genome(space, rng)) for i in range(n)]


def sandwich_members(space: dict, seed: int, step: int, n: int = 4, sandwich_rule: bool = True) -> List[dict]:
    """max, n − 2 uniform random subnets, then min (or random without the sandwich rule). Drawn from (seed, step)
    alone, so every rank samples the same members and a resumed run samples what the uninterrupted one would."""
    rng = random.Random(step_seed(seed, step, 0x5a))
    members = [{"role": "max", "genome": max_genome(space)}]
    for k in range(1, n):
        if k == n - 1 and sandwich_rule:
            members.append({"role": "min", "genome": min_genome(space)})
        else:
            members.append({"role": "random", "genome": random_genome(space, rng)})
    return members


def regularizer(cfg: dict, seed: int, step: int, rank: int) -> Optional[Regularize]:
    """The max subnet's dropout and drop-connect masks come from (seed, step, rank)."""
    if cfg["dropout"] <= 0 and cfg["dropConnect"] <= 0:
        return None
    gen = torch.Generator().manual_seed(step_seed(seed, step, rank, 0xd0))
    return Regularize(cfg["dropout"], cfg["dropConnect"], gen)


def sandwich_backward(model, num_classes: int, x, y, members: List[dict], cfg: dict, regularize: Optional[Regularize],
                      on_member: Optional[Callable[[int], None]] = None) -> List[dict]:
    """Forward + backward of every member on one (shard of a) batch; gradients accumulate (sum) in `.grad`.
    `model` is the Supernet or its DDP wrapper. Returns each member's loss (and α₋ statistics). `on_member(i)` (default
    none) is called after member i's backward, for gradients.py's per-member record."""
    out = []
    teacher = None
    for i, m in enumerate(members):
        if i == 0:
            logits = model(x, m["genome"], regularize=regularize)
            loss = label_smoothed_cross_entropy(logits, y, num_classes, cfg["labelSmoothing"])
            teacher = logits.detach()
            share = div = None
        else:
            logits = model(x, m["genome"])
            loss, share, div = distillation_loss(logits, teacher, y, num_classes, cfg["distillation"], cfg["labelSmoothing"])
        loss.backward()
        if on_member is not None:
            on_member(i)
        out.append({"role": m["role"], "loss": float(loss.detach()), "share": None if share is None else float(share),
                    "div": None if div is None else float(div)})
    return out


def distillation_at(distillation: dict, step: int, steps_per_epoch: int) -> dict:
    """The distillation of the step after `step` steps (0-based): KL during the α kinds' KL warm-up (`klWarmupEpochs`,
    default 0: none), else the configured one; the workbench's `distillationAt` is the same rule."""
    if distillation["kind"] in ("adaptive-alpha", "alpha") and step < distillation.get("klWarmupEpochs", 0) * steps_per_epoch:
        return {"kind": "kl"}
    return distillation


def base_lr(cfg: dict) -> float:
    lr = cfg["optimizer"].get("lr")
    return lr if lr is not None else 0.1 * max(1, cfg["batchSize"] // 256)


# ---------------------------------------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Trainer:
    def __init__(self, run_dir: str, device: str = "auto", resume: bool = False):
        self.run_dir = os.path.abspath(run_dir)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cfg_path = os.path.join(self.run_dir, "config.json")
        try:
            with open(cfg_path, "r", encoding="utf-8") as f:
                self.cfg = json.load(f)
        except (OSError, ValueError) as e:
            raise TrainError(f"cannot read the run config {cfg_path}: {e}") from None
        cfg = self.cfg
        self.run_id = int(cfg.get("runId", 0))
        if not isinstance(cfg.get("space"), dict):
            raise TrainError("config.json: `space` must be an inline space object (the workbench writes it so)")
        self.space = parse_space(cfg["space"], "config.json space")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() and cfg.get("gpus", 0) != 0 else "cpu"
        if device == "cuda":
            if not torch.cuda.is_available():
                raise TrainError(f"GPUs were asked for, but this torch {torch.__version__} sees no CUDA device (a CPU-only build, or no driver)")
            if self.local_rank >= torch.cuda.device_count():
                raise TrainError(f"rank {self.rank} needs GPU {self.local_rank}, but only {torch.cuda.device_count()} are visible")
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        self.ds = RunDataset(os.path.join(self.run_dir, "dataset"))
        self.num_classes = int(cfg.get("numClasses") or self.ds.num_classes)
        b = cfg["batchSize"]
        if b % self.world:
            raise TrainError(f"batchSize {b} does not split over {self.world} ranks: use a multiple of {self.world}")
        n_train = self.ds.count("train")
        self.steps_per_epoch = min(cfg.get("stepsPerEpoch") or n_train // b, n_train // b)
        if self.steps_per_epoch < 1:
            raise TrainError(f"the training split has {n_train} images, fewer than one batch of {b}")
        self.total_steps = cfg["epochs"] * self.steps_per_epoch
        self.ckpt_dir = os.path.join(self.run_dir, "checkpoints")
        self.progress_path = os.path.join(self.run_dir, "progress.jsonl")
        self.control_path = os.path.join(self.run_dir, "control")
        if self.rank == 0:
            os.makedirs(self.ckpt_dir, exist_ok=True)
            for f in glob.glob(os.path.join(self.ckpt_dir, ".*.tmp-*")):
                os.remove(f)

        torch.manual_seed(cfg["seed"])
        self.net = Supernet(self.space, num_classes=self.num_classes, seed=cfg["seed"]).to(self.device)
        o = cfg["optimizer"]
        self.opt = NesterovSgd(self.net.p, o["momentum"], o["nesterov"], o["weightDecay"])
        self.state = {"step": 0, "epoch": 0, "batch": 0, "lrScale": 1.0, "rollbacks": 0}
        self.best_metric = None
        self.val_subnets = validation_subnets(self.space, cfg["seed"], cfg["validation"]["randomSubnets"])
        self.stop_request = None  # 'pause' from a signal
        self.non_finite = 0
        if resume:
            self.load_latest()
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            # find_unused_parameters: every member uses another part of the supernet. No buffers to broadcast: BN keeps
            # no running statistics during training.
            self.model = DDP(self.net, device_ids=[self.local_rank] if self.device.type == "cuda" else None,
                             find_unused_parameters=True, broadcast_buffers=False)
        else:
            self.model = self.net

    # -- output ---------------------------------------------------------------------------------------------------------

    def emit(self, msg: dict) -> None:
        if self.rank != 0:
            return
        line = json.dumps({"type": msg.pop("type"), "runId": self.run_id, **msg}, separators=(",", ":"))
        with open(self.progress_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()

    def event(self, kind: str, message: str, step: Optional[int] = None) -> None:
        self.emit({"type": "event", "kind": kind, "message": message, **({"step": step} if step is not None else {})})

    # -- checkpoints ----------------------------------------------------------------------------------------------------

    def checkpoints(self) -> List[str]:
        return sorted(glob.glob(os.path.join(self.ckpt_dir, "step-*.ckpt")))

    def save(self, metric: Optional[float] = None) -> None:
        if self.rank != 0:
            return
        s = self.state
        path = os.path.join(self.ckpt_dir, f"step-{s['step']:08d}-e{s['epoch']}.ckpt")
        seed = self.cfg["seed"]
        # The workbench's own RNG fields (sfc32 states) are required by its format; this engine derives every draw
        # from (seed, step), so they only carry the seed.
        state = {"step": s["step"], "epoch": s["epoch"], "batch": s["batch"],
                 "rng": {"sampling": [seed, 0, 0, 0], "regularize": [seed, 1, 0, 0]},
                 "lrScale": s["lrScale"], "rollbacks": s["rollbacks"], **({"metric": metric} if metric is not None else {})}
        # The validation's subnets travel with the checkpoint, so a resumed run validates what it began with even if
        # their derivation changes between versions (it did once: `legacy_validation_subnets`).
        meta = {"engine": "torch", "version": torch.__version__, "world": self.world,
                "validationSubnets": [[name, g] for name, g in self.val_subnets]}
        try:
            nbytes = C.save_workbench_weights(self.net, path, state, self.cfg, self.opt.buffers, runId=self.run_id,
                                              torch=meta)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise TrainError(f"disk full writing checkpoint {path}; the last good checkpoint is kept") from None
            raise TrainError(f"cannot write checkpoint {path}: {e}") from None
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if metric is not None and (self.best_metric is None or metric > self.best_metric[0]):
            self.best_metric = (metric, path)
        self.emit({"type": "checkpoint", "step": s["step"], "epoch": s["epoch"], "path": path, "sha256": sha, "bytes": nbytes,
                   **({"metric": metric} if metric is not None else {})})
        keep = self.cfg["checkpoint"]["keepLast"]
        best = self.best_metric[1] if self.best_metric else None
        for old in self.checkpoints()[:-keep]:
            if old != best:
                os.remove(old)

    def load_latest(self) -> None:
        errors = []
        for path in reversed(self.checkpoints()):
            try:
                header, weights, momentum = C.read(path)
            except C.CheckpointError as e:
                errors.append(str(e))
                continue
            sd = C.state_dict_from_workbench(weights)
            self.net.load_state_dict({n: sd[n] for n in self.net.p}, strict=True)
            self.net.to(self.device)
            self.opt.buffers = {n: t.to(self.device) for n, t in C.state_dict_from_workbench(momentum).items()}
            st = header["state"]
            self.state = {"step": st["step"], "epoch": st["epoch"], "batch": st["batch"], "lrScale": st.get("lrScale", 1.0),
                          "rollbacks": st.get("rollbacks", 0)}
            self.val_subnets = self.resumed_validation_subnets(header)
            for e in errors:
                self.event("checkpoint-corrupt", e)
            return
        raise TrainError("no readable checkpoint to resume from" + (f": {errors[-1]}" if errors else f" in {self.ckpt_dir}"))

    def resumed_validation_subnets(self, header: dict) -> List[tuple]:
        """The subnets the checkpoint's run validated: those it stores; for one this engine wrote before they were
        stored (a `torch` object without them, before 2026-12-07), Python's draws of that time; for a workbench
        checkpoint (no `torch` object), the workbench's draws, which `validation_subnets` repeats."""
        meta = header.get("torch")
        if isinstance(meta, dict) and meta.get("validationSubnets"):
            return [(name, g) for name, g in meta["validationSubnets"]]
        n = self.cfg["validation"]["randomSubnets"]
        if isinstance(meta, dict):
            self.event("validation", "checkpoint written before 2026-12-07: validating the random subnets "
                       "Python's RNG drew then, as the run began")
            return legacy_validation_subnets(self.space, self.cfg["seed"], n)
        return validation_subnets(self.space, self.cfg["seed"], n)

    # -- control ----------------------------------------------------------------------------------------------------------

    def control(self) -> Optional[str]:
        """'pause' / 'cancel' / None, decided by rank 0 and broadcast to every rank."""
        code = 0
        if self.rank == 0:
            req = self.stop_request
            parent = os.environ.get("ALPHANET_PARENT_PID")
            if parent and not _alive(int(parent)):
                # The workbench process that tracks this run is gone (kill -9, a crash): stop with a checkpoint, so
                # that `alphanet runs resume` continues from here instead of racing an orphan.
                req = "pause"
            try:
                with open(self.control_path, "r", encoding="utf-8") as f:
                    req = f.read().strip() or req
            except OSError:
                pass
            code = {"pause": 1, "cancel": 2}.get(req or "", 0)
        if self.world > 1:
            t = torch.tensor([code], device=self.device)
            dist.broadcast(t, 0)
            code = int(t.item())
        return {1: "pause", 2: "cancel"}.get(code)

    # -- the loop -------------------------------------------------------------------------------------------------------

    def run(self) -> str:
        cfg = self.cfg
        b = cfg["batchSize"]
        per = b // self.world
        base = base_lr(cfg)
        warm = cfg["optimizer"]["warmupEpochs"] * self.steps_per_epoch
        clip = cfg["optimizer"]["gradClipValue"]
        every = cfg["progressEverySteps"]
        resumed = self.state["step"] > 0
        self.emit({"type": "event", "kind": "resume" if resumed else "start",
                   "message": f"{'resumed at step ' + str(self.state['step']) if resumed else 'started'}: {self.total_steps} steps, "
                              f"{self.world} rank{'s' if self.world > 1 else ''} on {self.device.type}, torch {torch.__version__}"})
        if not resumed:
            self.save()
        window = {"t0": time.perf_counter(), "images": 0, "clipped": 0.0, "steps": 0, "share": [], "losses": None}
        while self.state["step"] < self.total_steps:
            req = self.control()
            if req == "pause":
                self.save()
                self.emit({"type": "done", "status": "paused", "step": self.state["step"]})
                return "paused"
            if req == "cancel":
                self.emit({"type": "done", "status": "cancelled", "step": self.state["step"]})
                return "cancelled"
            t = self.state["step"]
            t_step = time.perf_counter()
            if os.environ.get("ALPHANET_TORCH_TEST_KILL_RANK") == str(self.rank) and str(t) == os.environ.get("ALPHANET_TORCH_TEST_KILL_STEP"):
                os.kill(os.getpid(), signal.SIGKILL)  # test hook: a rank that dies mid-run (tests/test_distributed.py)
            epoch, batch = divmod(t, self.steps_per_epoch)
            x, y = train_batch(self.ds, cfg["seed"], epoch, batch, b, self.rank, self.world, cfg["augment"])
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            members = sandwich_members(self.space, cfg["seed"], t, cfg["subnetsPerStep"], cfg["sandwichRule"])
            self.opt.zero_grad()
            step_cfg = {**cfg, "distillation": distillation_at(cfg["distillation"], t, self.steps_per_epoch)}
            res = sandwich_backward(self.model, self.num_classes, x, y, members, step_cfg, regularizer(cfg, cfg["seed"], t, self.rank))
            # Summed on the device, read once: one synchronisation per step instead of one per parameter.
            bad = int(sum((~torch.isfinite(p.grad)).sum() for p in self.net.p.values() if p.grad is not None))
            bad += sum(1 for r in res if not math.isfinite(r["loss"]))
            if bad:
                self.non_finite += bad
                self.emit({"type": "event", "kind": "nan", "message": f"{bad} non-finite loss or gradient entries at step {t + 1}", "step": t + 1})
                if cfg["nan"]["policy"] == "stop" or self.state["rollbacks"] >= cfg["nan"]["maxRollbacks"]:
                    raise TrainError(f"non-finite gradients at step {t + 1}" + (" (rollbacks exhausted)" if cfg["nan"]["policy"] != "stop" else ""))
                scale, rollbacks = self.state["lrScale"] * cfg["nan"]["lrFactor"], self.state["rollbacks"] + 1
                self.load_latest()
                self.state["lrScale"], self.state["rollbacks"] = scale, rollbacks
                self.event("rollback", f"rolled back to step {self.state['step']}, LR × {scale:g}", self.state["step"])
                continue
            lr = learning_rate(base, t, self.total_steps, warm, cfg["optimizer"]["warmupStartFactor"]) * self.state["lrScale"]
            clipped = self.opt.step(lr, clip)
            self.state["step"] = t + 1
            self.state["epoch"], self.state["batch"] = divmod(t + 1, self.steps_per_epoch)
            step_ms = (time.perf_counter() - t_step) * 1000
            self.emit({"type": "step", "step": t + 1, "epoch": epoch, "lr": lr, "loss": sum(r["loss"] for r in res),
                       "losses": [{"role": r["role"], "loss": r["loss"], "arch": genome_id(self.space["id"], m["genome"]),
                                   **({"divergence": r["div"]} if r["div"] is not None else {})} for r, m in zip(res, members)],
                       "alphaMinShare": (sum(r["share"] for r in res if r["share"] is not None) / max(1, sum(1 for r in res if r["share"] is not None)))
                       if any(r["share"] is not None for r in res) else None,
                       "clippedShare": clipped, "nonfinite": self.non_finite, "stepMs": step_ms,
                       "imagesPerSec": b / (step_ms / 1000) if step_ms > 0 else None})
            window["images"] += b
            window["steps"] += 1
            window["clipped"] += clipped
            window["share"] += [r["share"] for r in res if r["share"] is not None]
            step = t + 1
            if step % every == 0 or step == self.total_steps:
                dt = time.perf_counter() - window["t0"]
                ips = window["images"] / dt if dt > 0 else 0.0
                self.emit({"type": "progress", "step": step, "totalSteps": self.total_steps, "epoch": epoch, "batch": batch,
                           "losses": [{"role": r["role"], "loss": r["loss"], "arch": genome_id(self.space["id"], m["genome"])} for r, m in zip(res, members)],
                           "lr": lr, "imagesPerSec": ips, "workers": self.world,
                           "etaSec": (self.total_steps - step) * b / ips if ips > 0 else 0.0,
                           "alphaMinShare": sum(window["share"]) / len(window["share"]) if window["share"] else None,
                           "clippedShare": window["clipped"] / window["steps"], "nonFinite": self.non_finite,
                           "rollbacks": self.state["rollbacks"]})
                window = {"t0": time.perf_counter(), "images": 0, "clipped": 0.0, "steps": 0, "share": []}
            end_of_epoch = step % self.steps_per_epoch == 0
            if end_of_epoch:
                metric = self.validate(epoch) if self.is_validation_epoch(epoch) else None
                self.save(metric)
            elif step % cfg["checkpoint"]["everySteps"] == 0:
                self.save()
        if self.checkpoints() and not self.checkpoints()[-1].endswith(f"step-{self.state['step']:08d}-e{self.state['epoch']}.ckpt"):
            self.save()
        self.emit({"type": "done", "status": "finished", "step": self.state["step"]})
        return "finished"

    def is_validation_epoch(self, epoch: int) -> bool:
        every = self.cfg["validation"]["everyEpochs"]
        return epoch == self.cfg["epochs"] - 1 or (every > 0 and (epoch + 1) % every == 0)

    def validate(self, epoch: int) -> Optional[float]:
        """Rank 0 validates (BN recalibration per subnet, METHOD.md §4) while the others wait at a barrier."""
        metric = None
        if self.rank == 0:
            t0 = time.perf_counter()
            v = self.cfg["validation"]
            calib = [c.to(self.device) for c in calibration_batches(self.ds, self.cfg["seed"], v["calibrationBatches"], v["calibrationBatchSize"])]
            subnets = []
            for name, g in self.val_subnets:
                stats = calibrate_bn(self.net, g, calib)
                before = {k: (torch.zeros_like(m), torch.ones_like(var)) for k, (m, var) in stats.items()}
                batches = [(x.to(self.device), y.to(self.device)) for x, y in val_batches(self.ds, v["batchSize"], v.get("maxImages"))]
                if not batches:
                    raise TrainError("the dataset has no val images to validate on")
                after = evaluate(self.net, g, stats, batches)
                pre = evaluate(self.net, g, before, batches)
                subnets.append({"subnet": name, "mflops": cost(self.space, g, self.num_classes)["mflops"], "valTop1": after["top1"],
                                "valLoss": after["loss"], "valTop1Before": pre["top1"], "valLossBefore": pre["loss"],
                                "genome": g, "valImages": after["images"]})
            top = {s["subnet"]: s["valTop1"] for s in subnets}
            metric = (top["min"] + top["max"]) / 2
            self.emit({"type": "epoch", "epoch": epoch, "step": self.state["step"], "subnets": subnets, "seconds": time.perf_counter() - t0})
        if self.world > 1:
            dist.barrier()
        return metric


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m alphanet_torch.train", description="Train an AlphaNet supernet in a run directory (docs/TORCH.md).")
    p.add_argument("run_dir")
    p.add_argument("--resume", action="store_true", help="continue from the newest good checkpoint")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads per rank (default: torch's choice)")
    args = p.parse_args(argv)
    malloc.tune()  # before the first tensor: CPU runs up to 3x faster (malloc.py)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    trainer = None
    try:
        if world > 1:
            use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
            backend = "nccl" if use_cuda and dist.is_nccl_available() else "gloo"
            dist.init_process_group(backend)
        trainer = Trainer(args.run_dir, args.device, args.resume)

        def on_signal(signum, frame):
            trainer.stop_request = "pause"
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        trainer.run()
        code = 0
    except (TrainError, C.CheckpointError, ValueError, OSError, RuntimeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        low = msg.lower()
        if world > 1 and not isinstance(e, TrainError) and any(w in low for w in ("connection", "closed", "timed out", "broken pipe", "peer")):
            msg = f"a rank died or lost its connection: {msg}"
        print(f"alphanet_torch (rank {rank}): {msg}", file=sys.stderr)
        if trainer is not None:
            try:
                trainer.emit({"type": "done", "status": "failed", "step": trainer.state["step"], "error": msg})
            except OSError:
                pass
        code = 1 if trainer is not None else 2
    finally:
        if world > 1 and dist.is_initialized():
            try:
                dist.destroy_process_group()
            except Exception:  # noqa: BLE001 — the group may be broken by a dead rank
                pass
    return code


if __name__ == "__main__":
    sys.exit(main())
