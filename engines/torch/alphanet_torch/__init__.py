"""The PyTorch twin of the AlphaNet Workbench engine (docs/TORCH.md).

The same search spaces (read from the workbench's `resources/spaces/*.json`), the same supernet with the same layer
rules, slicing and centre-cropping as `src-main/engine`, the same losses, sandwich step, optimizer and schedule, and
checkpoints in the workbench's own format (`ANCKPT01`), so a run trained here is searched, compared and exported by
the workbench like any other. Training: `torchrun --nproc-per-node N -m alphanet_torch.train <run-dir>`.
"""

__version__ = "0.1.0"
