"""The run directory's dataset: the workbench's stored uint8 arrays and a JSON index, read without the workbench.

    <run-dir>/dataset/index.json       {name, height, width, channels, classNames, mean, std,
                                        augment: {flip, padding}, splits: {train: {images, labels, count}, val: {…}}}
    <run-dir>/dataset/train.images.u8  N·H·W·C bytes, HWC order (as the workbench stores them)
    <run-dir>/dataset/train.labels.u16 N little-endian uint16
    (val likewise)

Batches follow the workbench loader's rules: per epoch one permutation of the training split from (seed, epoch); batch
b is positions [b·B, (b+1)·B) of it; a partial last batch is dropped; augmentation (zero-padded random crop,
horizontal flip where the dataset allows it) is drawn per image from (seed, epoch, b); then per-channel normalisation
(v/255 − mean)/std. With N ranks each rank takes its contiguous 1/N of every global batch (a distributed sampler over
the same permutation), so the images of a step and their augmentation do not depend on the number of ranks. The
draws come from numpy's generator, not the workbench's sfc32: the two engines see the same images in another order.
"""
import json
import os
from typing import Iterator, List, Tuple

import numpy as np
import torch


class DatasetError(ValueError):
    pass


class RunDataset:
    def __init__(self, root: str):
        self.root = root
        path = os.path.join(root, "index.json")
        try:
            with open(path, "r", encoding="utf-8") as f:
                self.index = json.load(f)
        except (OSError, ValueError) as e:
            raise DatasetError(f"cannot read the run's dataset index {path}: {e}") from None
        ix = self.index
        self.h, self.w, self.c = int(ix["height"]), int(ix["width"]), int(ix["channels"])
        self.num_classes = len(ix["classNames"])
        self.mean = np.asarray(ix["mean"], dtype=np.float32)
        self.std = np.asarray(ix["std"], dtype=np.float32)
        self.flip = bool(ix.get("augment", {}).get("flip", False))
        self.padding = int(ix.get("augment", {}).get("padding", 0))
        self.splits = {name: self._load(name, s) for name, s in ix["splits"].items()}

    def _load(self, name: str, s: dict) -> Tuple[np.ndarray, np.ndarray]:
        px = self.h * self.w * self.c
        img_path = os.path.join(self.root, s["images"])
        lab_path = os.path.join(self.root, s["labels"])
        try:
            images = np.memmap(img_path, dtype=np.uint8, mode="r") if os.path.getsize(img_path) else np.zeros(0, np.uint8)
            labels = np.fromfile(lab_path, dtype="<u2")
        except OSError as e:
            raise DatasetError(f"cannot read the {name} split: {e}") from None
        n = int(s["count"])
        if labels.size != n or images.size != n * px:
            raise DatasetError(f"the {name} split is damaged: {images.size} bytes and {labels.size} labels for {n} images of {self.h}×{self.w}×{self.c}")
        if n and int(labels.max()) >= self.num_classes:
            raise DatasetError(f"the {name} split has label {int(labels.max())}, but only {self.num_classes} classes")
        return images.reshape(n, self.h, self.w, self.c) if n else images.reshape(0, self.h, self.w, self.c), labels

    def count(self, split: str) -> int:
        return int(self.splits[split][1].size)

    def to_tensor(self, images: np.ndarray) -> torch.Tensor:
        """uint8 NHWC → normalised float32 NCHW."""
        x = images.astype(np.float32) / 255.0
        x = (x - self.mean) / self.std
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def augment(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Zero-padded random crop back to H×W (offsets in [−p, p]) and, where allowed, a flip with p = 0.5; both drawn
        per image in order (dy, dx, flip), as the workbench's loader."""
        n = images.shape[0]
        p = self.padding
        out = np.empty_like(images)
        padded = np.zeros((n, self.h + 2 * p, self.w + 2 * p, self.c), dtype=np.uint8)
        padded[:, p:p + self.h, p:p + self.w] = images
        for i in range(n):
            dy = int(rng.integers(0, 2 * p + 1)) - p
            dx = int(rng.integers(0, 2 * p + 1)) - p
            flip = self.flip and rng.random() < 0.5
            crop = padded[i, p + dy: p + dy + self.h, p + dx: p + dx + self.w]
            out[i] = crop[:, ::-1] if flip else crop
        return out


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch, 0x5a1]).permutation(n)


def train_batch(ds: RunDataset, seed: int, epoch: int, batch: int, batch_size: int, rank: int = 0, world: int = 1,
                augment: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Rank `rank`'s shard of global batch `batch` of `epoch`: (x NCHW float32, labels int64)."""
    images, labels = ds.splits["train"]
    perm = permutation(labels.size, seed, epoch)
    idx = perm[batch * batch_size: (batch + 1) * batch_size]
    imgs = images[idx]
    if augment:
        imgs = ds.augment(imgs, np.random.default_rng([seed, epoch, batch, 0xa06]))
    per = batch_size // world
    sl = slice(rank * per, (rank + 1) * per)
    return ds.to_tensor(imgs[sl]), torch.from_numpy(labels[idx][sl].astype(np.int64))


def calibration_batches(ds: RunDataset, seed: int, batches: int, batch_size: int) -> List[torch.Tensor]:
    """Fixed augmented training batches for BN recalibration (the same for every subnet and epoch)."""
    images, _ = ds.splits["train"]
    rng = np.random.default_rng([seed, 0xca1])
    out = []
    for _ in range(batches):
        idx = rng.choice(images.shape[0], size=min(batch_size, images.shape[0]), replace=False)
        out.append(ds.to_tensor(ds.augment(images[np.sort(idx)], rng)))
    return out


def val_batches(ds: RunDataset, batch_size: int, limit: int = None) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
    images, labels = ds.splits["val"]
    n = labels.size if limit is None else min(limit, labels.size)
    for a in range(0, n, batch_size):
        b = min(a + batch_size, n)
        yield ds.to_tensor(np.asarray(images[a:b])), torch.from_numpy(labels[a:b].astype(np.int64))


def write_run_dataset(root: str, name: str, splits: dict, class_names: list, mean, std, flip: bool, padding: int) -> None:
    """Writes a run dataset (tests, tools): splits {name: (uint8 NHWC, labels)}; files via temp name + rename."""
    os.makedirs(root, exist_ok=True)
    first = next(iter(splits.values()))[0]
    index = {"name": name, "height": int(first.shape[1]), "width": int(first.shape[2]), "channels": int(first.shape[3]),
             "classNames": list(class_names), "mean": list(map(float, mean)), "std": list(map(float, std)),
             "augment": {"flip": flip, "padding": padding}, "splits": {}}
    for split, (images, labels) in splits.items():
        for fname, data in ((f"{split}.images.u8", np.ascontiguousarray(images, dtype=np.uint8)),
                            (f"{split}.labels.u16", np.ascontiguousarray(labels, dtype="<u2"))):
            tmp = os.path.join(root, f".{fname}.tmp")
            data.tofile(tmp)
            os.replace(tmp, os.path.join(root, fname))
        index["splits"][split] = {"images": f"{split}.images.u8", "labels": f"{split}.labels.u16", "count": int(labels.shape[0])}
    tmp = os.path.join(root, ".index.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    os.replace(tmp, os.path.join(root, "index.json"))
