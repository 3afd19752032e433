"""Checkpoints in the workbench's own format, and conversion to and from a PyTorch state dict.

Format `ANCKPT01` (src-main/train/checkpoint.ts, docs/TRAINING.md), little-endian:
    8 bytes  magic b"ANCKPT01"
    4 bytes  u32 header length H
    H bytes  UTF-8 JSON header: format 1, runId, createdAt, state, config,
             tensors [{name, group weight|momentum, shape, offset, length}], dataSha256
    rest     float32 data of every tensor back to back
Tensors are in the workbench's layouts (NHWC convs: [k, k, in, out], depthwise [k, k, c, 1], pointwise and linear
[in, out]); `to_torch` / `from_torch` transpose to PyTorch's [out, in, k, k] / [out, in]. The torch engine writes
this format directly, so the workbench reads a torch run's checkpoints like its own; the header then carries an extra
`torch` object (engine, torch version, ranks, the validation's subnets) that the workbench ignores.

Written to a temporary name in the same directory, fsynced, renamed, directory fsynced: a crash leaves the old file or
the new one.
"""
import datetime
import hashlib
import json
import os
import struct
from typing import Dict, Tuple

import numpy as np
import torch

MAGIC = b"ANCKPT01"


class CheckpointError(ValueError):
    pass


def _kind(name: str) -> str:
    if name == "first.conv.w":
        return "conv"
    if name.endswith(".dw.w"):
        return "depthwise"
    if name == "classifier.w":
        return "linear"
    if name.endswith(".w"):
        return "pointwise"
    return "vector"


def to_torch(name: str, a: np.ndarray) -> np.ndarray:
    """A workbench tensor in PyTorch's layout."""
    k = _kind(name)
    if k == "conv":
        return np.ascontiguousarray(a.transpose(3, 2, 0, 1))  # [k,k,in,out] → [out,in,k,k]
    if k == "depthwise":
        return np.ascontiguousarray(a.transpose(2, 3, 0, 1))  # [k,k,c,1] → [c,1,k,k]
    if k == "pointwise":
        return np.ascontiguousarray(a.T[:, :, None, None])  # [in,out] → [out,in,1,1]
    if k == "linear":
        return np.ascontiguousarray(a.T)  # [in,out] → [out,in]
    return a


def from_torch(name: str, a: np.ndarray) -> np.ndarray:
    """A PyTorch-layout tensor in the workbench's layout (inverse of `to_torch`)."""
    k = _kind(name)
    if k == "conv":
        return np.ascontiguousarray(a.transpose(2, 3, 1, 0))
    if k == "depthwise":
        return np.ascontiguousarray(a.transpose(2, 3, 0, 1))
    if k == "pointwise":
        return np.ascontiguousarray(a[:, :, 0, 0].T)
    if k == "linear":
        return np.ascontiguousarray(a.T)
    return a


def encode(header_fields: dict, weights: Dict[str, np.ndarray], momentum: Dict[str, np.ndarray]) -> bytes:
    """Checkpoint bytes; arrays in the workbench's layout, float32."""
    tensors = []
    parts = []
    offset = 0
    for group, arrays in (("weight", weights), ("momentum", momentum)):
        for name, a in arrays.items():
            a = np.ascontiguousarray(a, dtype="<f4")
            tensors.append({"name": name, "group": group, "shape": list(a.shape), "offset": offset, "length": int(a.size)})
            parts.append(a.tobytes())
            offset += int(a.size)
    data = b"".join(parts)
    header = {"format": 1, "runId": header_fields.get("runId", 0),
              "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
              "state": header_fields["state"], "config": header_fields.get("config", {}), "tensors": tensors,
              "dataSha256": hashlib.sha256(data).hexdigest()}
    for k, v in header_fields.items():
        if k not in header:
            header[k] = v
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return MAGIC + struct.pack("<I", len(h)) + h + data


def decode(buf: bytes, what: str = "checkpoint") -> Tuple[dict, Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """(header, weights, momentum) of checkpoint bytes; checks the magic and the data hash."""
    if len(buf) < 12 or buf[:8] != MAGIC:
        raise CheckpointError(f"{what} is not an AlphaNet checkpoint (bad magic)")
    (hlen,) = struct.unpack("<I", buf[8:12])
    if 12 + hlen > len(buf):
        raise CheckpointError(f"{what} is truncated (header of {hlen} bytes, file of {len(buf)})")
    try:
        header = json.loads(buf[12:12 + hlen].decode("utf-8"))
    except ValueError as e:
        raise CheckpointError(f"{what} has a corrupt header: {e}") from None
    if header.get("format") != 1:
        raise CheckpointError(f"{what} has format {header.get('format')}; this version reads format 1")
    data = buf[12 + hlen:]
    got = hashlib.sha256(data).hexdigest()
    if got != header.get("dataSha256"):
        raise CheckpointError(f"{what} failed its hash check: data sha256 {got[:12]}…, header says {str(header.get('dataSha256'))[:12]}…")
    floats = np.frombuffer(data, dtype="<f4")
    weights, momentum = {}, {}
    for t in header["tensors"]:
        if t["offset"] + t["length"] > floats.size:
            raise CheckpointError(f"{what}: tensor '{t['name']}' lies outside the data")
        a = floats[t["offset"]: t["offset"] + t["length"]].reshape(t["shape"]).copy()
        (weights if t["group"] == "weight" else momentum)[t["name"]] = a
    return header, weights, momentum


def write_durable(path: str, data: bytes) -> None:
    """Temp name in the same directory, fsync, rename, fsync of the directory."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    if os.name != "nt":
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read(path: str):
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from None
    return decode(buf, f"checkpoint {path}")


def state_dict_from_workbench(weights: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
    """Workbench arrays → a state dict for `Supernet.load_state_dict`."""
    return {name: torch.from_numpy(to_torch(name, a).astype(np.float32)) for name, a in weights.items()}


def workbench_from_state_dict(sd: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
    """A Supernet state dict (or momentum buffers by name) → workbench arrays."""
    return {name: from_torch(name, t.detach().cpu().float().numpy()) for name, t in sd.items()}


def load_workbench_weights(net, path: str) -> dict:
    """Loads a workbench checkpoint's weights into a Supernet; returns its header. Every parameter must be there."""
    header, weights, _ = read(path)
    sd = state_dict_from_workbench(weights)
    missing = [n for n in net.p if n not in sd]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {len(missing)} parameters, e.g. '{missing[0]}' (another space?)")
    for n, p in net.p.items():
        if tuple(sd[n].shape) != tuple(p.shape):
            raise CheckpointError(f"checkpoint {path}: '{n}' has shape {list(sd[n].shape)}, expected {list(p.shape)}")
    net.load_state_dict({n: sd[n] for n in net.p}, strict=True)
    return header


def save_workbench_weights(net, path: str, state: dict, config: dict, momentum: Dict[str, torch.Tensor] = None, **extra) -> int:
    """Writes the supernet (and momentum buffers) as a workbench checkpoint; returns its size in bytes."""
    w = workbench_from_state_dict({n: p for n, p in net.p.items()})
    m = workbench_from_state_dict(momentum or {})
    data = encode({"state": state, "config": config, **extra}, w, m)
    write_durable(path, data)
    return len(data)
