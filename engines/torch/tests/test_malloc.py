"""malloc.tune(): what it changes (a large buffer allocated again is no longer fresh pages from the kernel), what it
must not change (a run's numbers), and whose settings win (the user's)."""
import json
import os
import platform
import subprocess
import sys

import pytest

from rundir import lines, make_run_dir
from alphanet_torch import malloc

ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc.tune() acts on glibc only")

# 20 rounds of: allocate 40 MiB, write every page, free. 40 MiB is above the largest mmap threshold glibc's own
# dynamic rule reaches (32 MiB), so with glibc's defaults every round maps fresh pages and faults on each; tuned, the
# block comes from the heap and stays there after the first round.
ROUNDS = """
import ctypes, json, resource, sys
from alphanet_torch import malloc
did = malloc.tune()
libc = ctypes.CDLL("libc.so.6")
libc.prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: 4 KiB pages, so a fault counts a page where THP is always on
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
n = 40 << 20
def once():
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    libc.free(p)
once()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    once()
print(json.dumps({"did": did, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def rounds(**env):
    e = dict(os.environ, PYTHONPATH=ENGINE)
    for k in list(e):
        if k.startswith("MALLOC_") or k in ("GLIBC_TUNABLES", malloc.OPT_OUT):
            del e[k]
    e.update(env)
    r = subprocess.run([sys.executable, "-c", ROUNDS], capture_output=True, text=True, env=e, check=True)
    return json.loads(r.stdout)


@glibc
def test_tuned_a_freed_large_buffer_is_reused_not_faulted_in_again():
    pages = (40 << 20) // os.sysconf("SC_PAGE_SIZE")
    default = rounds(**{malloc.OPT_OUT: "default"})
    tuned = rounds()
    assert default["did"] == "off" and tuned["did"] == "tuned"
    assert default["faults"] >= 20 * pages * 0.9  # every round: fresh pages
    assert tuned["faults"] < pages / 10  # the first round's pages, kept


@glibc
def test_the_users_own_malloc_settings_win():
    assert rounds(MALLOC_MMAP_THRESHOLD_="65536")["did"] == "user"
    assert rounds(GLIBC_TUNABLES="glibc.malloc.trim_threshold=1000")["did"] == "user"
    assert rounds(GLIBC_TUNABLES="glibc.rtld.optional_static_tls=4096")["did"] == "tuned"  # not a malloc one


@glibc
def test_a_run_trains_to_the_same_numbers_tuned_or_not(tmp_path):
    def train(name, **env):
        run = make_run_dir(tmp_path / name)
        e = dict(os.environ, PYTHONPATH=ENGINE, OMP_NUM_THREADS="1", **env)
        subprocess.run([sys.executable, "-m", "alphanet_torch.train", run, "--device", "cpu", "--threads", "1"],
                       capture_output=True, text=True, env=e, check=True)
        return [(m["step"], [l["loss"] for l in m["losses"]]) for m in lines(run) if m["type"] == "step"], \
            [m["subnets"] for m in lines(run) if m["type"] == "epoch"]

    default, tuned = train("default", **{malloc.OPT_OUT: "default"}), train("tuned")
    assert len(default[0]) == 6 and default == tuned  # every member's loss at every step, every validation: exact
