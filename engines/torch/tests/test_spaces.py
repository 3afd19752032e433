"""Spaces from the one source of truth, and the analytic FLOPs and parameters of A0–A6 and of random subnets of every
space equal to the TypeScript engine's numbers, which come from the built CLI (`alphanet flops --archs`), not from a
copied table."""
import json
import os
import random
import re

import pytest

from conftest import FIXTURES, REPO
from workbench import cli
from alphanet_torch import spaces as S

SPACES = S.builtin_spaces()


@pytest.mark.workbench
def test_builtin_spaces_are_the_registry():
    ts = {s["id"]: s for s in cli("--json", "spaces")}
    assert set(ts) == set(SPACES)
    for sid, s in SPACES.items():
        lo, hi = S.cost(s, S.min_genome(s)), S.cost(s, S.max_genome(s))
        assert round(lo["mflops"], 3) == ts[sid]["minMflops"]
        assert round(hi["mflops"], 3) == ts[sid]["maxMflops"]
    assert [n["name"] for n in S.named_subnets()][:2] == ["alphanet-a0", "alphanet-a1"]


@pytest.mark.workbench
@pytest.mark.parametrize("space_id", sorted(SPACES))
def test_flops_and_params_equal_the_workbench(space_id, tmp_path):
    space = SPACES[space_id]
    rng = random.Random(space_id)
    genomes = [S.min_genome(space), S.max_genome(space)] + [S.random_genome(space, rng) for _ in range(40)]
    if space_id == "alphanet-imagenet":
        genomes += [S.validate_genome(space, n["genome"]) for n in S.named_subnets()]
    path = tmp_path / "archs.json"
    path.write_text(json.dumps(genomes))
    ts = cli("flops", "--space", space_id, "--archs", str(path))
    assert len(ts) == len(genomes)
    for g, t in zip(genomes, ts):
        c = S.cost(space, g)
        assert (c["macs"], c["params"]) == (t["macs"], t["params"]), S.canonical_genome_json(g)


def test_published_models_match_the_paper_within_a_percent():
    """The reference's published MFLOPs of A0–A6 (test/fixtures/alphanet-space.json, copied from the shared spec)."""
    ref = json.load(open(os.path.join(FIXTURES, "alphanet-space.json")))
    space = SPACES["alphanet-imagenet"]
    named = {n["name"]: n for n in S.named_subnets()}
    assert len(named) >= 8
    for n in named.values():
        c = S.cost(space, S.validate_genome(space, n["genome"]))
        assert abs(c["mflops"] - n["published"]["mflops"]) / n["published"]["mflops"] < 0.01, n["name"]
    assert ref  # the fixture is present (its genomes are the named subnets' source)


def test_genome_id_and_validation():
    space = SPACES["alphanet-cifar32"]
    g = S.max_genome(space)
    # The golden ID of A0 that the TypeScript tests pin (read from that test, so the two cannot drift apart).
    ts_test = open(os.path.join(REPO, "test", "unit", "engine", "spaces.test.ts"), encoding="utf-8").read()
    golden = re.search(r"GOLDEN_A0_ID = '([0-9a-f]{12})'", ts_test).group(1)
    a0 = S.resolve_genome(SPACES["alphanet-imagenet"], "alphanet-a0")
    assert S.genome_id("alphanet-imagenet", a0) == golden
    bad = dict(g, resolution=31)
    with pytest.raises(S.SpaceError, match="resolution: 31 is not one of"):
        S.validate_genome(space, bad)
    slim = SPACES["slimmable-cifar32"]
    mixed = S.max_genome(slim)
    mixed["width"][0] = slim["firstConv"]["width"][0]
    with pytest.raises(S.SpaceError, match="multiplier"):
        S.validate_genome(slim, mixed)
    assert S.resolve_genome(SPACES["alphanet-imagenet"], "alphanet-a0")["resolution"] == 192
