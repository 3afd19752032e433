/**
 * The Python side of the workbench: which interpreter runs the PyTorch engine (engines/torch, docs/TORCH.md), where
 * the engine's package is, and what that torch can do (`alphanet doctor`, the checks before a torch run starts).
 *
 * The interpreter: $ALPHANET_PYTHON, else the first of `python3`, `/usr/bin/python3` that imports torch — the same rule
 * as scripts/test.mjs. A machine may have several Pythons (a pyenv one without torch first on PATH, the system one
 * with it), so "the first python3" is not enough.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface TorchReport {
  /** The interpreter that imports torch, or null. */
  python: string | null;
  pythonVersion?: string;
  torch?: string;
  /** CUDA devices torch sees (names), empty on a CPU-only build or machine. */
  cuda: string[];
  nccl: boolean;
  gloo: boolean;
  /** Where the alphanet_torch package is (the directory put on PYTHONPATH). */
  engineDir: string | null;
  /** Why the torch engine cannot run here, in one line; absent when it can. */
  problem?: string;
}

/** engines/torch of this checkout or installed app: $ALPHANET_TORCH_ENGINE, else next to out/ (two levels up). */
export function torchEngineDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [env.ALPHANET_TORCH_ENGINE, join(__dirname, '..', '..', 'engines', 'torch'), join(process.cwd(), 'engines', 'torch')];
  for (const c of candidates) if (c && existsSync(join(c, 'alphanet_torch', 'train.py'))) return c;
  return null;
}

const PROBE = `
import json, sys
out = {"pythonVersion": sys.version.split()[0]}
try:
    import torch, numpy
    import torch.distributed as dist
    out["torch"] = torch.__version__
    out["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    out["nccl"] = bool(dist.is_available() and dist.is_nccl_available())
    out["gloo"] = bool(dist.is_available() and dist.is_gloo_available())
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

interface Probe {
  pythonVersion?: string;
  torch?: string;
  cuda?: string[];
  nccl?: boolean;
  gloo?: boolean;
  error?: string;
}

function probe(exe: string): Probe | null {
  const r = spawnSync(exe, ['-c', PROBE], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !r.stdout) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
  } catch {
    return null;
  }
}

/** Finds the interpreter and asks it what its torch can do. Synchronous, a second or two (importing torch). */
export function torchReport(env: NodeJS.ProcessEnv = process.env): TorchReport {
  const engineDir = torchEngineDir(env);
  const none = (problem: string): TorchReport => ({ python: null, cuda: [], nccl: false, gloo: false, engineDir, problem });
  const tried: string[] = [];
  const candidates = env.ALPHANET_PYTHON ? [env.ALPHANET_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const exe of candidates) {
    const p = probe(exe);
    if (!p) {
      tried.push(`${exe}: not found or not runnable`);
      continue;
    }
    if (p.error || !p.torch) {
      tried.push(`${exe} (Python ${p.pythonVersion ?? '?'}): no torch (${p.error ?? 'import failed'})`);
      continue;
    }
    const report: TorchReport = { python: exe, pythonVersion: p.pythonVersion, torch: p.torch, cuda: p.cuda ?? [], nccl: !!p.nccl, gloo: !!p.gloo, engineDir };
    if (!engineDir) report.problem = 'the torch engine package (engines/torch) is missing; set ALPHANET_TORCH_ENGINE to its directory';
    return report;
  }
  return none(
    env.ALPHANET_PYTHON
      ? `ALPHANET_PYTHON=${env.ALPHANET_PYTHON} cannot run the torch engine (${tried.join('; ')})`
      : `no Python with torch found (${tried.join('; ')}); install torch (pip install torch numpy) or set ALPHANET_PYTHON`,
  );
}

/** Why a torch run with this many GPUs cannot start here, in one line; undefined when it can. */
export function torchRunProblem(r: TorchReport, gpus: number): string | undefined {
  if (r.problem) return r.problem;
  if (gpus > 0 && r.cuda.length === 0) return `${gpus} GPU(s) asked for, but torch ${r.torch} (${r.python}) sees no CUDA device: a CPU-only torch build or no driver; use --gpus 0 for the CPU`;
  if (gpus > r.cuda.length) return `${gpus} GPUs asked for, but torch sees only ${r.cuda.length}`;
  if (gpus === 0 && !r.gloo) return `torch ${r.torch} has no gloo backend for CPU ranks`;
  return undefined;
}

/** Text lines for `alphanet doctor`. */
export function formatTorchReport(r: TorchReport): string {
  if (!r.python) return `torch:     unavailable — ${r.problem}`;
  const dev = r.cuda.length ? `CUDA: ${r.cuda.length} device(s): ${r.cuda.join(', ')}` : 'CPU only (no CUDA device)';
  const lines = [
    `torch:     ${r.torch} (${r.python}, Python ${r.pythonVersion})`,
    `           ${dev}; distributed: ${[r.nccl ? 'NCCL' : '', r.gloo ? 'gloo' : ''].filter(Boolean).join(', ') || 'none'}`,
    `           engine: ${r.engineDir ?? 'missing'}`,
  ];
  if (r.problem) lines.push(`           problem: ${r.problem}`);
  return lines.join('\n');
}
