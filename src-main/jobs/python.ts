/**
 * The Python side of the workbench: which interpreter runs the PyTorch engine (engines/torch, docs/TORCH.md), where
 * the engine's package is, and what that torch can do (`alphanet doctor`, the checks before a torch run starts).
 *
 * The interpreter: $ALPHANET_PYTHON, else the first of `python3`, `/usr/bin/python3` that imports torch — the same rule
 * as scripts/test.mjs. A machine may have several Pythons (a pyenv one without torch first on PATH, the system one
 * with it), so "the first python3" is not enough.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
import json, site, sys
out = {"pythonVersion": sys.version.split()[0], "executable": sys.executable,
       "path": [p for p in sys.path if p] + [site.getusersitepackages()]}
try:
    import torch, numpy
    import torch.distributed as dist
    out["torch"] = torch.__version__
    out["torchFile"] = torch.__file__
    out["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    out["nccl"] = bool(dist.is_available() and dist.is_nccl_available())
    out["gloo"] = bool(dist.is_available() and dist.is_gloo_available())
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

interface Probe {
  pythonVersion?: string;
  executable?: string;
  /** sys.path and the user site directory (which may not exist yet): where an import finds packages. */
  path?: string[];
  torchFile?: string;
  torch?: string;
  cuda?: string[];
  nccl?: boolean;
  gloo?: boolean;
  error?: string;
}

function probe(exe: string, env: NodeJS.ProcessEnv): Probe | null {
  // In this process's environment with the caller's on top (its PYTHONPATH, CUDA_VISIBLE_DEVICES, …): a caller's
  // partial environment (a test's, the CLI's io.env) still has PATH to find python3.
  const r = spawnSync(exe, ['-c', PROBE], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  if (r.status !== 0 || !r.stdout) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
  } catch {
    return null;
  }
}

/**
 * The probe's cache (`torchReport`'s `cache` file): importing torch takes a second or more of CPU (several on a GPU
 * box, where CUDA initialises), and every torch run's runner asks right after the CLI or the previous run did. An
 * interpreter's answer is reused while nothing it depends on changed: the environment variables that choose the
 * interpreter or steer its imports, the working directory (pyenv's .python-version), the interpreter file, and every
 * directory on its sys.path plus torch's own files (installing, upgrading or removing a package changes their
 * mtimes), and for at most PROBE_CACHE_MS. What the cache cannot see (a GPU or driver gone) the trainer checks again
 * itself and reports in one line.
 */
const PROBE_CACHE_MS = 6 * 3600_000;
const CACHE_ENV = ['ALPHANET_PYTHON', 'PATH', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONNOUSERSITE', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'PYENV_VERSION', 'CUDA_VISIBLE_DEVICES'];

interface CachedProbe {
  key: string;
  at: number;
  probe: Probe;
  /** path → `mtimeMs:size` when probed; '' for a path that did not exist. */
  stamps: Record<string, string>;
}

const stampOf = (path: string): string => {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return '';
  }
};

function stampPaths(p: Probe): string[] {
  const torchDir = p.torchFile ? dirname(p.torchFile) : undefined;
  return [p.executable, ...(p.path ?? []), ...(torchDir ? [torchDir, join(torchDir, 'version.py')] : [])].filter((x): x is string => !!x);
}

function probeCache(file: string | undefined, env: NodeJS.ProcessEnv) {
  const key = JSON.stringify([process.cwd(), ...CACHE_ENV.map((k) => env[k] ?? process.env[k] ?? null)]);
  let entries: Record<string, CachedProbe> = {};
  if (file) {
    try {
      entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CachedProbe>;
    } catch {
      entries = {}; // none yet, or unreadable: probe afresh
    }
  }
  let dirty = false;
  return {
    get(exe: string): Probe | null {
      const e = entries[exe];
      if (!e || e.key !== key || !(Date.now() - e.at < PROBE_CACHE_MS)) return null;
      return Object.entries(e.stamps).every(([path, stamp]) => stampOf(path) === stamp) ? e.probe : null;
    },
    put(exe: string, p: Probe): void {
      if (!file || !p.executable) return;
      entries[exe] = { key, at: Date.now(), probe: p, stamps: Object.fromEntries(stampPaths(p).map((x) => [x, stampOf(x)])) };
      dirty = true;
    },
    save(): void {
      if (!file || !dirty) return;
      // A cache that cannot be written only costs the next caller a probe.
      const tmp = `${file}.tmp-${process.pid}`;
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(tmp, JSON.stringify(entries));
        renameSync(tmp, file);
      } catch {
        // ignored (see above)
      }
    },
  };
}

/** Where a workbench home keeps the probe's cache. */
export const torchProbeCacheFile = (home: string): string => join(home, 'cache', 'torch-probe.json');

/**
 * Finds the interpreter and asks it what its torch can do: a second or two (importing torch), unless `cache` (a file,
 * `torchProbeCacheFile`) holds a still-valid answer for it; a fresh answer is stored there. `refresh` probes afresh and
 * stores that (`alphanet doctor`: what it shows is what the next run uses).
 */
export function torchReport(env: NodeJS.ProcessEnv = process.env, o: { cache?: string; refresh?: boolean } = {}): TorchReport {
  const engineDir = torchEngineDir(env);
  const none = (problem: string): TorchReport => ({ python: null, cuda: [], nccl: false, gloo: false, engineDir, problem });
  const tried: string[] = [];
  const candidates = env.ALPHANET_PYTHON ? [env.ALPHANET_PYTHON] : ['python3', '/usr/bin/python3'];
  const cache = probeCache(o.cache, env);
  try {
    for (const exe of candidates) {
      let p = o.refresh ? null : cache.get(exe);
      if (!p) {
        p = probe(exe, env);
        if (p) cache.put(exe, p);
      }
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
  } finally {
    cache.save();
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
