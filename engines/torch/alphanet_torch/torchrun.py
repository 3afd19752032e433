"""`python -m alphanet_torch.torchrun …` = `torchrun …`, usable on every torch this engine supports.

torch 1.13's launcher breaks on Python ≥ 3.11 before it starts a single worker (`'NoneType' object has no attribute
'get'` in elastic/multiprocessing/api.py): its `Std` IntFlag parses the `--redirects`/`--tee` settings by iterating
the flag class, and since Python 3.11 that iteration no longer yields the zero and multi-bit members (NONE, ALL).
Debian 12's python3-torch is exactly that pair. This shim replaces the parser with a table and then runs torch's own
launcher unchanged; on a torch without the bug it changes nothing. The workbench launches runs through it; by hand,
plain `torchrun` works wherever that bug is absent (torch ≥ 2.0). Note that torch 1.13's torchrun spells the flag
`--nproc_per_node` (2.x accepts that spelling too).
"""
import re
import sys


def _patch_std() -> None:
    try:
        from torch.distributed.elastic.multiprocessing import api
    except ImportError:
        return
    Std = api.Std
    if Std.from_str("0") is Std.NONE and Std.from_str("3") is Std.ALL:
        return
    table = {0: Std.NONE, 1: Std.OUT, 2: Std.ERR, 3: Std.ALL}

    def from_str(cls, vm):
        if re.match(r"^[0123]$", vm):
            return table[int(vm)]
        if re.match(r"^(\d:[0123],)*(\d:[0123])$", vm):
            return {int(i): table[int(v)] for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match: <^[0123]$> or <^(\\d:[0123],)*(\\d:[0123])$>")

    Std.from_str = classmethod(from_str)


def main() -> None:
    _patch_std()
    from torch.distributed.run import main as torchrun_main
    torchrun_main()


if __name__ == "__main__":
    sys.argv[0] = "torchrun"
    main()
