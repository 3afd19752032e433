"""Keep glibc's malloc from handing torch's CPU tensors back to the kernel after every use.

A training step allocates and frees the same few-megabyte activation and gradient buffers many times over. glibc
serves a block above its mmap threshold (128 KiB at start, raised only as such blocks are freed) with a fresh `mmap`
and returns it with `munmap`; blocks below it come from the heap, whose free top is given back (`trim`) past the trim
threshold. Either way the next step's buffers are new pages: a page fault and a zeroed page for every 4 KiB. On the
2-core development VM a 1-thread CPU run of `alphanet-mnist28` spent 10–30 % of its time in the kernel (6 million
page faults in its first 5 minutes); a 25-step run of the same setup took 105 s untuned and 34 s with `tune()`
(docs/BENCHMARKS.md, "The torch engine on the CPU: glibc's malloc").

`tune()` stops both: no block is served by `mmap` (the heap grows with `brk` instead; where glibc cannot grow a
heap, it still falls back to `mmap`, so no allocation fails for it), and up to 1 GiB of freed heap stays with the
process for the next step. What it costs: the process keeps its peak heap, which a training process stays near anyway
(a 25-step run of that setup peaked at 819 MB resident, against 719 and 759 MB untuned). Numbers are unchanged:
only where buffers live changes (the tests compare a run's losses with and without). Linux with glibc only;
elsewhere, or where the user set a `MALLOC_*` setting or a malloc tunable of their own (theirs wins), it does nothing.
"""
import ctypes
import os
import sys

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

TRIM_THRESHOLD = 1 << 30
"""Bytes of free heap top kept before glibc gives memory back to the kernel."""

USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
"""Environment variables with which a user tunes glibc's malloc themselves; any of them set: `tune()` leaves it alone."""

OPT_OUT = "ALPHANET_TORCH_MALLOC"
"""`ALPHANET_TORCH_MALLOC=default` leaves glibc's defaults (the benchmark's baseline)."""


def tune() -> str:
    """Stop the mmapping and the trimming if this is glibc and the user has not. Returns what it did (the tests read
    it): "tuned", "off" (the opt-out), "user" (a MALLOC_* setting in the environment, or GLIBC_TUNABLES naming malloc)
    or "unsupported"."""
    if os.environ.get(OPT_OUT) == "default":
        return "off"
    if any(v in os.environ for v in USER_SETTINGS) or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return "user"
    if not sys.platform.startswith("linux"):
        return "unsupported"
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: the malloc torch allocates with
    except (OSError, AttributeError):  # a libc without mallopt (musl)
        return "unsupported"
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Both, never one: setting any of these stops glibc's dynamic thresholds, and one alone is slower than neither
    # (trim alone: every block above 128 KiB mmapped; no mmap alone: the heap trimmed past 128 KiB, after every step).
    ok = mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return "tuned" if ok else "unsupported"
