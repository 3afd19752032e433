"""The workbench's seeded PRNG, ported: sfc32 seeded through splitmix32, as `Rng` in src-main/engine/core/rng.ts.

The PyTorch engine draws most of its randomness from torch's and Python's generators (an engine's own streams are
its own business). Where the two engines must draw the *same* numbers, it uses this port: the validation's fixed
random subnets, so that `random-1` of a seed is one architecture in both engines and their top-1 compare like for
like. test/fixtures/validation-subnets.json (written from the TypeScript side, checked on both) holds the two to it.
"""
from typing import List, Sequence, TypeVar

T = TypeVar("T")
_M = 0xFFFFFFFF


def _splitmix32(a: int):
    """One step of splitmix32 from state `a`: the next state and the output."""
    x = (a + 0x9E3779B9) & _M
    z = x
    z = ((z ^ (z >> 16)) * 0x21F0AAAD) & _M
    z = ((z ^ (z >> 15)) * 0x735A2D97) & _M
    return x, (z ^ (z >> 15)) & _M


class WorkbenchRng:
    """`new Rng(seed)` of the workbench: the seed is taken modulo 2^32 (JavaScript's `seed >>> 0`), expanded by
    splitmix32 into sfc32's four words, and 12 outputs are discarded. `random`, `randrange` and `choice` draw exactly
    as `next`, `int` and `choice` do there (not as Python's `random.Random`)."""

    def __init__(self, seed: int):
        x = seed & _M
        self.s: List[int] = []
        for _ in range(4):
            x, out = _splitmix32(x)
            self.s.append(out)
        for _ in range(12):
            self.next_uint32()

    def next_uint32(self) -> int:
        s = self.s
        t = (s[0] + s[1] + s[3]) & _M
        s[3] = (s[3] + 1) & _M
        s[0] = s[1] ^ (s[1] >> 9)
        s[1] = (s[2] + (s[2] << 3)) & _M
        s[2] = ((s[2] << 21) & _M) | (s[2] >> 11)
        s[2] = (s[2] + t) & _M
        return t

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return self.next_uint32() / 4294967296

    def randrange(self, n: int) -> int:
        """Uniform integer in [0, n): floor(random() · n)."""
        return int(self.random() * n)

    def choice(self, xs: Sequence[T]) -> T:
        if len(xs) == 0:
            raise IndexError("choice from an empty list")
        return xs[self.randrange(len(xs))]
