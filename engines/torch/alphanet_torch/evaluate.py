"""Evaluation of subnets of a workbench checkpoint on the torch engine, giving the numbers the workbench's own
evaluation gives (src-main/engine/evaluate.ts `evaluateSubnet`, docs/METHOD.md §4): accuracy and mean cross-entropy
before calibration (eval mode with reset statistics, mean 0 and variance 1), then BN recalibration on the calibration
batches and accuracy and loss again with the calibrated statistics.

    python -m alphanet_torch.evaluate SETUP.json [--device auto|cpu|cuda] [--threads T]
        A long-lived evaluator: prints {"type": "ready", ...}, then answers every stdin line {"id": …, "genome": {…}}
        with one stdout line {"id": …, "result": {…}} or {"id": …, "error": "one line"}, in order, until stdin closes.
    python -m alphanet_torch.evaluate SETUP.json --genomes in.jsonl --out results.jsonl [--rank-split]
        A batch: every line of in.jsonl ({"id": …, "genome": {…}}, or a bare genome whose id is its line number) gets
        a line in results.jsonl, appended and flushed one by one; lines whose id the file already holds are skipped,
        so a requeued job continues. With --rank-split, rank r of N (RANK/WORLD_SIZE as torchrun sets them, else
        SLURM_PROCID/SLURM_NTASKS) takes the lines i with i mod N = r and writes results.jsonl.rank<r>.

The setup (JSON, written by the workbench, src-main/jobs/torch-evaluator.ts):
    checkpoint   {path, sha256}: an ANCKPT01 file (the workbench's or this engine's; sha256 of the whole file)
    space        the search space, inline;  numClasses
    dataset      a run directory's dataset/ (data.py)
    split        "val" or "test": evaluated in order, unaugmented, in batches of batchSize
    calibration  [{indices: [...], dy: [...], dx: [...], flip: [0|1, ...]}] per batch: the training images (indices
                 into the dataset's train split) and their crop offsets and flips, exactly as the workbench's
                 `calibrationPlan` (src-main/data/loader.ts) draws them with its own seeded generator; so both engines
                 calibrate on the same pixels.
    batchSize    images per evaluation batch (does not change the numbers)

Normalisation is the workbench's lookup table: per channel (v/255 − mean)/std computed in float64 and rounded to
float32 once, then looked up, so the input tensors equal the workbench's bit for bit.

A result: {accuracy, loss, images, before: {accuracy, loss, method: "reset"}, calibration: {batches, images}, ms}.
Exit codes: 0 done (or stdin closed); 1 a batch failed midway (the lines written so far stay); 2 bad setup (one line
on stderr).
"""
import argparse
import hashlib
import json
import os
import sys
import time
from typing import Dict, Iterator, List, Tuple

import numpy as np
import torch

from . import checkpoint as C, malloc
from .data import DatasetError, RunDataset
from .spaces import SpaceError, parse_space, validate_genome
from .supernet import Supernet, calibrate_bn, evaluate


class EvalError(ValueError):
    """A problem meant for the user: one line."""


def norm_lut(mean, std) -> np.ndarray:
    """[C, 256] float32: (v/255 − mean[c])/std[c] in float64, rounded once (the workbench's `normLut`)."""
    v = np.arange(256, dtype=np.float64) / 255.0
    return np.stack([(v - float(m)) / float(s) for m, s in zip(mean, std)]).astype(np.float32)


def to_input(images: np.ndarray, lut: np.ndarray) -> torch.Tensor:
    """uint8 NHWC → normalised float32 NCHW through the lookup table."""
    x = np.empty(images.shape, dtype=np.float32)
    for c in range(images.shape[3]):
        x[..., c] = lut[c][images[..., c]]
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def place(images: np.ndarray, dy: List[int], dx: List[int], flip: List[int]) -> np.ndarray:
    """Each image cropped at (dy, dx) from its zero-padded self and flipped where asked: output (y, x) reads input
    (y + dy, x' + dx), x' = x mirrored when flipping, zero outside (the workbench's `transformInto` at equal size)."""
    n, h, w, _ = images.shape
    p = max([0] + [abs(int(v)) for v in dy] + [abs(int(v)) for v in dx])
    padded = np.zeros((n, h + 2 * p, w + 2 * p, images.shape[3]), dtype=np.uint8)
    padded[:, p:p + h, p:p + w] = images
    out = np.empty_like(images)
    for i in range(n):
        a, b = p + int(dy[i]), p + int(dx[i])
        if flip[i]:
            # Mirrored output column x reads padded column (w − 1 − x) + b: the window [b, b + w) reversed.
            out[i] = padded[i, a:a + h, b:b + w][:, ::-1]
        else:
            out[i] = padded[i, a:a + h, b:b + w]
    return out


def _reset_stats(net: Supernet, genome: dict, device) -> Dict[str, tuple]:
    """Mean 0, variance 1 for every BN of the subnet: what `resetStats` gives the workbench's "before" numbers. The
    names and widths come from one tiny forward that observes every BN (so they cannot drift from the forward's)."""
    stats = {}

    def observe(name, mean, _var, _n):
        stats[name] = (torch.zeros_like(mean), torch.ones_like(mean))

    with torch.no_grad():
        r = net.plan(genome)["resolution"]
        net(torch.zeros(2, net.space["inputChannels"], r, r, device=device), genome, observer=observe)
    return stats


class Evaluator:
    """A checkpoint's supernet with the calibration batches and the evaluation split on the device, ready to
    evaluate any number of subnets."""

    def __init__(self, setup: dict, device: str = "auto"):
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise EvalError(f"a GPU was asked for, but this torch {torch.__version__} sees no CUDA device")
        self.device = torch.device(device)
        try:
            self.space = parse_space(setup["space"])
            self.num_classes = int(setup["numClasses"])
            ck = setup["checkpoint"]
            ds_dir, split, batch_size = setup["dataset"], setup["split"], int(setup["batchSize"])
            plan = setup["calibration"]
        except (KeyError, TypeError, ValueError) as e:
            raise EvalError(f"the evaluation setup lacks or mangles {e}") from None
        if split not in ("val", "test"):
            raise EvalError(f"split must be val or test, got '{split}'")
        if batch_size < 1 or not plan:
            raise EvalError("batchSize and at least one calibration batch are needed")
        self.net = Supernet(self.space, num_classes=self.num_classes, seed=0)
        self._load_checkpoint(ck["path"], ck["sha256"])
        self.net.to(self.device).eval()
        ds = RunDataset(ds_dir)
        if self.space["inputChannels"] != ds.c:
            raise EvalError(f"space '{self.space['id']}' takes {self.space['inputChannels']}-channel images, the dataset has {ds.c}")
        if split not in ds.splits:
            raise EvalError(f"the run's dataset directory {ds_dir} has no {split} split")
        # The index's float64 statistics (RunDataset keeps float32 copies, which would move the last bit).
        lut = norm_lut(ds.index["mean"], ds.index["std"])
        train, _ = ds.splits["train"]
        self.calibration = []
        for b, c in enumerate(plan):
            idx = np.asarray(c["indices"], dtype=np.int64)
            if not (len(idx) == len(c["dy"]) == len(c["dx"]) == len(c["flip"])) or len(idx) == 0:
                raise EvalError(f"calibration batch {b}: indices, dy, dx and flip must have one entry per image")
            if idx.min() < 0 or idx.max() >= train.shape[0]:
                raise EvalError(f"calibration batch {b} names image {int(idx.max())}, but the train split has {train.shape[0]}")
            self.calibration.append(to_input(place(np.asarray(train[idx]), c["dy"], c["dx"], c["flip"]), lut).to(self.device))
        images, labels = ds.splits[split]
        if labels.size == 0:
            raise EvalError(f"the dataset has no {split} images")
        self.batches = [(to_input(np.asarray(images[a:a + batch_size]), lut).to(self.device),
                         torch.from_numpy(labels[a:a + batch_size].astype(np.int64)).to(self.device))
                        for a in range(0, labels.size, batch_size)]

    def _load_checkpoint(self, path: str, sha256: str) -> None:
        try:
            with open(path, "rb") as f:
                buf = f.read()
        except OSError as e:
            raise EvalError(f"cannot read checkpoint {path}: {e.strerror}") from None
        got = hashlib.sha256(buf).hexdigest()
        if got != sha256:
            raise EvalError(f"checkpoint {path} changed: sha256 {got[:12]}…, the search pinned {sha256[:12]}…")
        _, weights, _ = C.decode(buf, f"checkpoint {path}")
        sd = C.state_dict_from_workbench(weights)
        for n, p in self.net.p.items():
            if n not in sd or tuple(sd[n].shape) != tuple(p.shape):
                raise EvalError(f"checkpoint {path} does not fit the supernet of space '{self.space['id']}' ('{n}')")
        self.net.load_state_dict({n: sd[n] for n in self.net.p}, strict=True)

    def evaluate(self, genome: dict) -> dict:
        t0 = time.perf_counter()
        g = validate_genome(self.space, genome)
        before = evaluate(self.net, g, _reset_stats(self.net, g, self.device), self.batches)
        after = evaluate(self.net, g, calibrate_bn(self.net, g, self.calibration), self.batches)
        return {"accuracy": after["top1"], "loss": after["loss"], "images": after["images"],
                "before": {"accuracy": before["top1"], "loss": before["loss"], "method": "reset"},
                "calibration": {"batches": len(self.calibration), "images": sum(int(c.shape[0]) for c in self.calibration)},
                "ms": (time.perf_counter() - t0) * 1000.0}


def _one_line(e: BaseException) -> str:
    s = str(e).strip()
    return " ".join(s.splitlines()) if s else type(e).__name__


def _write(stream, obj) -> None:
    stream.write(json.dumps(obj, separators=(",", ":")) + "\n")
    stream.flush()


def serve(ev: Evaluator, inp, out) -> None:
    for line in inp:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            _write(out, {"id": None, "error": f"not a JSON line: {e}"})
            continue
        try:
            _write(out, {"id": req.get("id"), "result": ev.evaluate(req["genome"])})
        except (SpaceError, EvalError, KeyError, TypeError, ValueError, RuntimeError) as e:
            # A bad genome, or a failure of this one subnet (out of memory): answered, and the evaluator serves on.
            _write(out, {"id": req.get("id") if isinstance(req, dict) else None, "error": _one_line(e)})


def rank_and_world() -> Tuple[int, int]:
    for r, w in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
        if r in os.environ and w in os.environ:
            return int(os.environ[r]), int(os.environ[w])
    return 0, 1


def read_genomes(path: str) -> Iterator[Tuple[int, object, dict]]:
    """(line number, id, genome) of every non-empty line."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise EvalError(f"cannot read {path}: {e.strerror}") from None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise EvalError(f"{path} line {i + 1} is not JSON: {e}") from None
        if isinstance(obj, dict) and "genome" in obj:
            yield i, obj.get("id", i), obj["genome"]
        else:
            yield i, i, obj


def done_ids(path: str) -> set:
    """Ids already answered in an output file (a torn last line, from a killed job, is not an answer)."""
    ids = set()
    if not os.path.exists(path):
        return ids
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            try:
                ids.add(json.dumps(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                pass
    return ids


def batch(ev: Evaluator, genomes: str, out: str, rank_split: bool) -> int:
    rank, world = rank_and_world() if rank_split else (0, 1)
    path = f"{out}.rank{rank}" if rank_split else out
    skip = done_ids(path)
    # Drop a torn last line (no newline) before appending, or the next answer would be glued onto it.
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, "rb+") as f:
            data = f.read()
            if not data.endswith(b"\n"):
                f.seek(0)
                f.truncate(data.rfind(b"\n") + 1)
    with open(path, "a", encoding="utf-8") as f:
        for i, gid, genome in read_genomes(genomes):
            if i % world != rank or json.dumps(gid) in skip:
                continue
            try:
                _write(f, {"id": gid, "result": ev.evaluate(genome)})
            except (SpaceError, EvalError) as e:
                _write(f, {"id": gid, "error": _one_line(e)})
            os.fsync(f.fileno())
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m alphanet_torch.evaluate", description="Evaluate subnets of a workbench checkpoint (docs/TORCH.md).")
    p.add_argument("setup", help="the evaluation setup (JSON)")
    p.add_argument("--genomes", help="batch mode: a JSON-lines file of genomes")
    p.add_argument("--out", help="batch mode: the results file (JSON lines, appended)")
    p.add_argument("--rank-split", action="store_true", help="batch mode: this rank takes every N-th genome")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    args = p.parse_args(argv)
    if bool(args.genomes) != bool(args.out):
        p.error("--genomes and --out go together")
    malloc.tune()  # before the first tensor: CPU runs up to 3x faster (malloc.py)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        try:
            with open(args.setup, "r", encoding="utf-8") as f:
                setup = json.load(f)
        except (OSError, ValueError) as e:
            raise EvalError(f"cannot read the evaluation setup {args.setup}: {e}") from None
        ev = Evaluator(setup, args.device)
    except (EvalError, SpaceError, DatasetError, C.CheckpointError, RuntimeError) as e:
        print(f"alphanet_torch.evaluate: {_one_line(e)}", file=sys.stderr)
        return 2
    if args.genomes:
        try:
            return batch(ev, args.genomes, args.out, args.rank_split)
        except (EvalError, OSError, RuntimeError) as e:
            print(f"alphanet_torch.evaluate: {_one_line(e)}", file=sys.stderr)
            return 1
    _write(sys.stdout, {"type": "ready", "torch": torch.__version__, "device": str(ev.device), "pid": os.getpid()})
    serve(ev, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
