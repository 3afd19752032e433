"""The PyTorch engine validates the same random subnets as the workbench: its port of the workbench's Rng
(alphanet_torch/rng.py) and `validation_subnets` against test/fixtures/validation-subnets.json, which the workbench's
own code wrote and test/unit/train/validation-subnets.test.ts holds it to."""
import json
import os
import random

import pytest

from conftest import FIXTURES
from alphanet_torch import spaces as S
from alphanet_torch.rng import WorkbenchRng
from alphanet_torch.train import validation_subnets

with open(os.path.join(FIXTURES, "validation-subnets.json")) as f:
    FIXTURE = json.load(f)


@pytest.mark.parametrize("entry", FIXTURE["rng"], ids=lambda e: str(e["seed"]))
def test_rng_draws_the_workbench_numbers(entry):
    r = WorkbenchRng(entry["seed"])
    assert [r.next_uint32() for _ in entry["uint32"]] == entry["uint32"]


def test_fixture_covers_every_builtin_space():
    assert {e["space"] for e in FIXTURE["subnets"]} == set(S.builtin_spaces())


@pytest.mark.parametrize("entry", FIXTURE["subnets"], ids=lambda e: f"{e['space']}-seed{e['seed']}")
def test_validation_subnets_are_the_workbench_ones(entry):
    space = S.get_space(entry["space"])
    got = validation_subnets(space, entry["seed"], len(entry["subnets"]) - 2)
    assert [{"name": n, "genome": g} for n, g in got] == entry["subnets"]


def test_python_random_would_draw_other_subnets():
    # The check above can fail: the genomes Python's own generator draws from the same seed are other ones.
    e = FIXTURE["subnets"][0]
    space = S.get_space(e["space"])
    rng = random.Random(e["seed"] + 0xA11)
    mine = [S.random_genome(space, rng) for _ in e["subnets"][2:]]
    assert mine != [s["genome"] for s in e["subnets"][2:]]


def test_choice_and_randrange_draw_as_the_workbench():
    # floor(u · n) from the same uniform, and an empty list is refused as there.
    a, b = WorkbenchRng(5), WorkbenchRng(5)
    for n in (1, 2, 3, 7, 10):
        assert a.randrange(n) == int(b.random() * n)
    with pytest.raises(IndexError):
        a.choice([])
