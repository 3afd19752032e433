"""Search spaces, genomes, the layer plan and the analytic cost — a line-by-line port of the TypeScript engine's
`src-main/engine/core/{schema,genome,plan,flops}.ts` (docs/METHOD.md).

The built-in spaces and named subnets are not defined here: they are read from the workbench's
`resources/spaces/*.json`, the files the TypeScript registry bundles, so the two engines share one source of truth.
A run directory carries its space inline (config.json), so training never needs the registry.
"""
import hashlib
import json
import math
import os
import random
from typing import Dict, List, Optional

DEFAULTS = {"description": "", "headExpand": 6, "bnEps": 1e-5, "widthMode": "per-stage", "dropConnectLastStages": 2}
GENOME_KEYS = ("resolution", "width", "depth", "kernelSize", "expandRatio")


class SpaceError(ValueError):
    """A bad space, genome or name, meant for the user (one line per problem)."""


def spaces_dir() -> str:
    """`resources/spaces` of the workbench: $ALPHANET_SPACES_DIR, else next to this package in the repository."""
    env = os.environ.get("ALPHANET_SPACES_DIR")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "resources", "spaces"))


def _increasing(xs, path, errs):
    if not isinstance(xs, list) or not xs or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in xs):
        errs.append(f"{path}: expected a non-empty list of positive integers")
    elif any(b <= a for a, b in zip(xs, xs[1:])):
        errs.append(f"{path}: choices must be strictly increasing")


def parse_space(obj: dict, source: str = "search space") -> dict:
    """Validates a space (the checks of `SearchSpaceSchema` that shape the network) and fills in the defaults."""
    if not isinstance(obj, dict):
        raise SpaceError(f"invalid {source}: expected an object")
    s = dict(DEFAULTS)
    s.update(obj)
    errs: List[str] = []
    for key in ("id", "inputChannels", "numClasses", "resolutions", "firstConv", "stages", "lastConv"):
        if key not in s:
            errs.append(f"{key}: required")
    if errs:
        raise SpaceError(f"invalid {source}:\n" + "\n".join(errs))
    if s["inputChannels"] not in (1, 3):
        errs.append("inputChannels: must be 1 or 3")
    _increasing(s["resolutions"], "resolutions", errs)
    _increasing(s["firstConv"].get("width"), "firstConv.width", errs)
    if s["firstConv"].get("stride") not in (1, 2):
        errs.append("firstConv.stride: must be 1 or 2")
    if s["firstConv"].get("kernelSize", 0) % 2 != 1:
        errs.append("firstConv.kernelSize: must be odd")
    if not isinstance(s["stages"], list) or not s["stages"]:
        errs.append("stages: at least one stage")
    else:
        for i, st in enumerate(s["stages"]):
            for k in ("width", "depth", "kernelSize", "expandRatio"):
                _increasing(st.get(k), f"stages[{i}].{k}", errs)
            if isinstance(st.get("kernelSize"), list) and any(k % 2 != 1 for k in st["kernelSize"]):
                errs.append(f"stages[{i}].kernelSize: kernel sizes must be odd")
            if st.get("stride") not in (1, 2):
                errs.append(f"stages[{i}].stride: must be 1 or 2")
            er = st.get("expandRatio") or []
            if len(er) > 1 and er[0] == 1:
                errs.append(f"stages[{i}].expandRatio: expand ratio 1 may only be the single choice of a stage")
            st.setdefault("se", False)
    _increasing(s["lastConv"].get("width"), "lastConv.width", errs)
    if s["widthMode"] not in ("per-stage", "multiplier"):
        errs.append("widthMode: 'per-stage' or 'multiplier'")
    if errs:
        raise SpaceError(f"invalid {source}:\n" + "\n".join(errs))
    return s


def _read_json(path: str):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SpaceError(f"cannot read {path}: {e}") from None


def builtin_spaces() -> Dict[str, dict]:
    """Every built-in space by id, from `resources/spaces/*.json`."""
    d = spaces_dir()
    try:
        names = sorted(n for n in os.listdir(d) if n.endswith(".json") and n != "named-subnets.json")
    except OSError as e:
        raise SpaceError(f"cannot list the built-in spaces in {d} (set ALPHANET_SPACES_DIR): {e}") from None
    out = {}
    for n in names:
        s = parse_space(_read_json(os.path.join(d, n)), f"built-in space {n}")
        out[s["id"]] = s
    return out


def named_subnets() -> List[dict]:
    """The published AlphaNet models: [{name, space, title, genome, published}] from `named-subnets.json`."""
    return _read_json(os.path.join(spaces_dir(), "named-subnets.json"))


def get_space(id_or_obj) -> dict:
    """A space by registry id, a path to a JSON file, or an inline space object."""
    if isinstance(id_or_obj, dict):
        return parse_space(id_or_obj)
    if id_or_obj.endswith(".json"):
        return parse_space(_read_json(id_or_obj), f"search space {id_or_obj}")
    spaces = builtin_spaces()
    if id_or_obj not in spaces:
        raise SpaceError(f"unknown search space '{id_or_obj}'; known: {', '.join(spaces)}")
    return spaces[id_or_obj]


# ---------------------------------------------------------------------------------------------------------------------
# Genomes (genome.ts).

def width_choices(space: dict) -> List[List[int]]:
    return [space["firstConv"]["width"]] + [s["width"] for s in space["stages"]] + [space["lastConv"]["width"]]


def _pick(space: dict, f) -> dict:
    return {
        "resolution": f(space["resolutions"]),
        "width": [f(c) for c in width_choices(space)],
        "depth": [f(s["depth"]) for s in space["stages"]],
        "kernelSize": [f(s["kernelSize"]) for s in space["stages"]],
        "expandRatio": [f(s["expandRatio"]) for s in space["stages"]],
    }


def min_genome(space: dict) -> dict:
    return _pick(space, lambda xs: xs[0])


def max_genome(space: dict) -> dict:
    return _pick(space, lambda xs: xs[-1])


def random_genome(space: dict, rng: random.Random) -> dict:
    """Every gene drawn independently and uniformly, in the reference's order (resolution, widths, then per stage
    depth, kernel, expand); one shared width index in `multiplier` mode. `rng` has `choice` and `randrange`: Python's
    `random.Random` (the training's sampled subnets, this engine's own stream) or `rng.WorkbenchRng`, which draws as
    the workbench's Rng does, so a seed gives the same genomes as its `randomGenome` (the validation's subnets)."""
    resolution = rng.choice(space["resolutions"])
    wc = width_choices(space)
    if space["widthMode"] == "multiplier":
        idx = rng.randrange(len(wc[0]))
        width = [c[idx] for c in wc]
    else:
        width = [rng.choice(c) for c in wc]
    depth, kernel, expand = [], [], []
    for s in space["stages"]:
        depth.append(rng.choice(s["depth"]))
        kernel.append(rng.choice(s["kernelSize"]))
        expand.append(rng.choice(s["expandRatio"]))
    return {"resolution": resolution, "width": width, "depth": depth, "kernelSize": kernel, "expandRatio": expand}


def normalize_genome(g: dict) -> dict:
    """Accepts the reference's snake_case keys too."""
    if not isinstance(g, dict):
        raise SpaceError("a genome must be a JSON object")
    g = dict(g)
    if "kernel_size" in g:
        g.setdefault("kernelSize", g.pop("kernel_size"))
    if "expand_ratio" in g:
        g.setdefault("expandRatio", g.pop("expand_ratio"))
    return g


def genome_errors(space: dict, g: dict) -> List[str]:
    errs = []
    for k in GENOME_KEYS:
        if k not in g:
            errs.append(f"{k}: required")
    if errs:
        return errs
    if g["resolution"] not in space["resolutions"]:
        errs.append(f"resolution: {g['resolution']} is not one of [{', '.join(map(str, space['resolutions']))}]")

    def check(gene, values, lists):
        if len(values) != len(lists):
            errs.append(f"{gene}: expected {len(lists)} entries, got {len(values)}")
            return
        for i, (v, l) in enumerate(zip(values, lists)):
            if v not in l:
                errs.append(f"{gene}[{i}]: {v} is not one of [{', '.join(map(str, l))}]")

    wc = width_choices(space)
    check("width", g["width"], wc)
    check("depth", g["depth"], [s["depth"] for s in space["stages"]])
    check("kernelSize", g["kernelSize"], [s["kernelSize"] for s in space["stages"]])
    check("expandRatio", g["expandRatio"], [s["expandRatio"] for s in space["stages"]])
    if space["widthMode"] == "multiplier" and not errs:
        idx = [c.index(w) for w, c in zip(g["width"], wc)]
        if any(i != idx[0] for i in idx):
            errs.append(f"width: widthMode 'multiplier' needs the same choice index for every width, got indices {idx}")
    return errs


def validate_genome(space: dict, g: dict) -> dict:
    g = normalize_genome(g)
    errs = genome_errors(space, g)
    if errs:
        raise SpaceError(f"genome is not in space '{space['id']}':\n" + "\n".join(errs))
    return {k: g[k] for k in GENOME_KEYS}


def resolve_genome(space: dict, arch) -> dict:
    """`min`, `max`, a named subnet of this space, or a genome object."""
    if isinstance(arch, str):
        if arch == "min":
            return min_genome(space)
        if arch == "max":
            return max_genome(space)
        for n in named_subnets():
            if n["name"] == arch:
                if n["space"] != space["id"]:
                    raise SpaceError(f"subnet '{arch}' belongs to space '{n['space']}', not '{space['id']}'")
                return validate_genome(space, n["genome"])
        raise SpaceError(f"unknown subnet '{arch}'; use min, max, a genome JSON or a named subnet")
    return validate_genome(space, arch)


def canonical_genome_json(g: dict) -> str:
    """The workbench's canonical form: fixed key order, no whitespace (equal genomes, equal strings)."""
    return json.dumps({k: g[k] for k in GENOME_KEYS}, separators=(",", ":"))


def genome_id(space_id: str, g: dict) -> str:
    """First 12 hex digits of sha256(space id + newline + canonical JSON): the workbench's subnet ID."""
    return hashlib.sha256(f"{space_id}\n{canonical_genome_json(g)}".encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------------------------------
# The layer plan (plan.ts).

def _js_round(x: float) -> int:
    """JavaScript's Math.round (halves up), not Python's banker's rounding."""
    return int(math.floor(x + 0.5))


def make_divisible(v: float, divisor: int = 8, min_value: int = 1) -> int:
    nv = max(min_value, int(math.floor((v + divisor / 2) / divisor)) * divisor)
    if nv < 0.9 * v:
        nv += divisor
    return nv


def conv_out_size(size: int, kernel: int, stride: int) -> int:
    pad = kernel // 2
    return (size + 2 * pad - kernel) // stride + 1


def pool_out_size(size: int) -> int:
    pad = size % 2
    return (size + 2 * pad - 2) // 2 + 1


def _se_channels(c_mid: int) -> int:
    return make_divisible(c_mid // 4, 8)


def _max_mid(st: dict, ins: List[int]) -> int:
    return make_divisible(_js_round(max(ins) * st["expandRatio"][-1]), 8) if st["expandRatio"][-1] > 1 else max(ins)


def _max_se(st: dict, ins: List[int]) -> int:
    if not st["se"]:
        return 0
    m = 0
    for c_in in ins:
        for t in st["expandRatio"]:
            mid = make_divisible(_js_round(c_in * t), 8) if st["expandRatio"][-1] > 1 else c_in
            m = max(m, _se_channels(mid))
    return max(m, _se_channels(_max_mid(st, ins)))


def subnet_plan(space: dict, g: dict, num_classes: Optional[int] = None) -> dict:
    """Every block's channels, kernel, stride and sizes for one subnet (METHOD.md §3.2), as `subnetPlan`."""
    num_classes = num_classes or space["numClasses"]
    total_blocks = sum(s["depth"][-1] for s in space["stages"])
    drop_stages = len(space["stages"]) - space["dropConnectLastStages"]
    fc = space["firstConv"]
    first_out = conv_out_size(g["resolution"], fc["kernelSize"], fc["stride"])
    size = first_out
    c_in = g["width"][0]
    gi = 0
    blocks = []
    for si, st in enumerate(space["stages"]):
        c_out = g["width"][si + 1]
        has_expand = st["expandRatio"][-1] > 1
        for b in range(st["depth"][-1]):
            if b < g["depth"][si]:
                stride = st["stride"] if b == 0 else 1
                c_mid = make_divisible(_js_round(c_in * g["expandRatio"][si]), 8) if has_expand else c_in
                out_size = conv_out_size(size, g["kernelSize"][si], stride)
                identity = c_in == c_out and stride == 1
                blocks.append({
                    "stage": si, "block": b, "globalIndex": gi, "cIn": c_in, "cMid": c_mid, "cOut": c_out,
                    "kernel": g["kernelSize"][si], "stride": stride, "hasExpand": has_expand,
                    "cSe": _se_channels(c_mid) if st["se"] else 0, "inSize": size, "outSize": out_size,
                    "shortcutPool": stride == 2, "shortcutConv": c_in != c_out,
                    "dropConnectScale": gi / total_blocks if identity and si >= drop_stages else 0.0,
                })
                c_in = c_out
                size = out_size
            gi += 1
    c_last_stage = g["width"][len(space["stages"])]
    return {
        "resolution": g["resolution"],
        "inputChannels": space["inputChannels"],
        "first": {"cIn": space["inputChannels"], "cOut": g["width"][0], "kernel": fc["kernelSize"], "stride": fc["stride"], "outSize": first_out},
        "blocks": blocks,
        "head": {"cIn": c_last_stage, "cExpand": c_last_stage * space["headExpand"], "cLast": g["width"][len(space["stages"]) + 1],
                 "numClasses": num_classes, "size": size},
    }


def supernet_shape(space: dict, num_classes: Optional[int] = None) -> dict:
    """The maximum (allocated) size of every physical layer (METHOD.md §3.4), as `supernetShape`."""
    num_classes = num_classes or space["numClasses"]
    blocks = []
    in_choices = space["firstConv"]["width"]
    gi = 0
    for si, st in enumerate(space["stages"]):
        for b in range(st["depth"][-1]):
            ins = in_choices if b == 0 else st["width"]
            blocks.append({
                "stage": si, "block": b, "globalIndex": gi, "maxIn": max(ins), "maxMid": _max_mid(st, ins),
                "maxOut": st["width"][-1], "maxKernel": st["kernelSize"][-1], "hasExpand": st["expandRatio"][-1] > 1,
                "maxSe": _max_se(st, ins),
                "hasShortcutConv": b == 0 and any(ci != co for ci in ins for co in st["width"]),
            })
            gi += 1
        in_choices = st["width"]
    last_stage = space["stages"][-1]["width"][-1]
    return {
        "first": {"cIn": space["inputChannels"], "maxOut": space["firstConv"]["width"][-1], "kernel": space["firstConv"]["kernelSize"]},
        "blocks": blocks,
        "head": {"maxIn": last_stage, "maxExpand": last_stage * space["headExpand"], "maxLast": space["lastConv"]["width"][-1], "numClasses": num_classes},
    }


def cost(space: dict, g: dict, num_classes: Optional[int] = None) -> dict:
    """MACs and parameters of a subnet (METHOD.md §6), term for term as `macTerms` in flops.ts."""
    p = subnet_plan(space, g, num_classes)
    macs = params = 0
    f, h = p["first"], p["head"]
    macs += f["cIn"] * f["kernel"] ** 2 * f["cOut"] * f["outSize"] ** 2
    params += f["cIn"] * f["kernel"] ** 2 * f["cOut"] + 2 * f["cOut"]
    for b in p["blocks"]:
        if b["hasExpand"]:
            macs += b["cIn"] * b["cMid"] * b["inSize"] ** 2
            params += b["cIn"] * b["cMid"] + 2 * b["cMid"]
        macs += b["kernel"] ** 2 * b["cMid"] * b["outSize"] ** 2
        params += b["kernel"] ** 2 * b["cMid"] + 2 * b["cMid"]
        if b["cSe"] > 0:
            macs += 2 * b["cMid"] * b["cSe"]
            params += 2 * b["cMid"] * b["cSe"] + b["cSe"] + b["cMid"]
        macs += b["cMid"] * b["cOut"] * b["outSize"] ** 2
        params += b["cMid"] * b["cOut"] + 2 * b["cOut"]
        if b["shortcutConv"]:
            macs += b["cIn"] * b["cOut"] * b["outSize"] ** 2
            params += b["cIn"] * b["cOut"]
    macs += h["cIn"] * h["cExpand"] * h["size"] ** 2 + h["cExpand"] * h["cLast"] + h["cLast"] * h["numClasses"]
    params += h["cIn"] * h["cExpand"] + 2 * h["cExpand"] + h["cExpand"] * h["cLast"] + h["cLast"] * h["numClasses"] + h["numClasses"]
    return {"macs": macs, "params": params, "mflops": macs / 1e6}
