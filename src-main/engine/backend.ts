/**
 * The backend ladder: the engine runs on the best TF.js backend that loads here, in this order:
 *   1. `tensorflow-gpu` — @tensorflow/tfjs-node-gpu (libtensorflow with CUDA);
 *   2. `tensorflow`     — @tensorflow/tfjs-node (libtensorflow on the CPU);
 *   3. `wasm`           — @tensorflow/tfjs-backend-wasm (SIMD when the runtime has it);
 *   4. `cpu`            — plain JavaScript, always there.
 * The first two are optional dependencies whose install downloads libtensorflow; where that failed they are simply
 * absent, and the ladder says so. `ALPHANET_BACKEND` or an explicit `force` picks one rung (and fails loudly if it
 * does not load, instead of silently training 20× slower).
 */
import * as tf from '@tensorflow/tfjs';
import { defaultOpsMode, type OpsMode } from './ops';
import { BACKENDS, BackendError, parseBackendChoice, type BackendChoice } from './core/backend-names';

export interface BackendAttempt {
  backend: BackendChoice;
  ok: boolean;
  /** Why it was skipped (or `forced` / `chosen`). */
  reason: string;
}

export interface BackendReport {
  chosen: BackendChoice;
  /** TF.js's own name of the active backend (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  tfjsVersion: string;
  /** Version of the package behind the chosen rung. */
  packageVersion: string;
  simd: boolean | null;
  threads: boolean | null;
  /** How the supernet ops are formulated on this backend (see ops/). */
  opsMode: OpsMode;
  attempts: BackendAttempt[];
}

/** First line of an error, with the common "optional dependency absent" case said plainly. */
function explain(e: unknown, pkg: string): string {
  const msg = String((e as Error)?.message ?? e).split('\n')[0];
  if (/Cannot find (module|package)/.test(msg) && msg.includes(pkg)) {
    return `${pkg} is not installed (an optional dependency: its install downloads libtensorflow, which failed or was skipped)`;
  }
  return `${pkg} failed to load: ${msg}`;
}

type Loader = () => Promise<{ tfName: string; pkg: string; version: string }>;

/** tfjs-node and tfjs-node-gpu both export `version['tfjs-node']`. */
function nodeVersion(m: unknown): string {
  const v = (m as { version?: Record<string, string> }).version;
  return v?.['tfjs-node'] ?? 'unknown';
}

/** tfjs-node and tfjs-node-gpu both register the `tensorflow` backend on import. */
const tfjsNode = (pkg: string): Loader => async () => {
  let m: unknown;
  try {
    m = await import(pkg);
  } catch (e) {
    throw new BackendError(explain(e, pkg));
  }
  return { tfName: 'tensorflow', pkg, version: nodeVersion(m) };
};

const loaders: Record<BackendChoice, Loader> = {
  'tensorflow-gpu': tfjsNode('@tensorflow/tfjs-node-gpu'),
  tensorflow: tfjsNode('@tensorflow/tfjs-node'),
  wasm: async () => {
    const pkg = '@tensorflow/tfjs-backend-wasm';
    try {
      const wasm = (await import(pkg)) as typeof import('@tensorflow/tfjs-backend-wasm');
      // In a packaged app the .wasm files sit outside the asar archive; the app points us there.
      const dir = process.env.ALPHANET_WASM_DIR;
      if (dir) wasm.setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
      return { tfName: 'wasm', pkg, version: wasm.version_wasm };
    } catch (e) {
      throw new BackendError(explain(e, pkg));
    }
  },
  cpu: async () => ({ tfName: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu', version: tf.version['tfjs-backend-cpu'] }),
};

let active: BackendReport | undefined;

/** The report of the backend chosen by `initBackend`, if it ran. */
export function activeBackend(): BackendReport | undefined {
  return active;
}

/**
 * Chooses and activates a backend. With `force` (or ALPHANET_BACKEND) only that rung is tried; otherwise each rung in
 * order until one loads *and* runs a small op. Idempotent for the same choice.
 */
export async function initBackend(opts: { force?: BackendChoice; env?: NodeJS.ProcessEnv } = {}): Promise<BackendReport> {
  const force = opts.force ?? parseBackendChoice((opts.env ?? process.env).ALPHANET_BACKEND);
  if (active && (!force || active.chosen === force)) return active;
  const ladder = force ? [force] : [...BACKENDS];
  const attempts: BackendAttempt[] = [];
  for (const backend of ladder) {
    try {
      const { tfName, pkg, version } = await loaders[backend]();
      const ok = await tf.setBackend(tfName);
      if (!ok) throw new BackendError(`${pkg} loaded but tf.setBackend('${tfName}') failed to initialise it`);
      await tf.ready();
      // A smoke test: some failures (a missing CUDA library) only surface on first use.
      tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
      let simd: boolean | null = null;
      let threads: boolean | null = null;
      if (tfName === 'wasm') {
        simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
        threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      }
      attempts.push({ backend, ok: true, reason: force ? 'forced' : 'chosen' });
      active = {
        chosen: backend,
        tfBackend: tf.getBackend(),
        tfjsVersion: tf.version.tfjs,
        packageVersion: version,
        simd,
        threads,
        opsMode: defaultOpsMode(tfName),
        attempts,
      };
      return active;
    } catch (e) {
      attempts.push({ backend, ok: false, reason: e instanceof BackendError ? e.message : String((e as Error)?.message ?? e) });
    }
  }
  const detail = attempts.map((a) => `  ${a.backend}: ${a.reason}`).join('\n');
  throw new BackendError(force ? `backend '${force}' was forced but is not available:\n${detail}` : `no TF.js backend loaded:\n${detail}`);
}

/** A human-readable report, as `alphanet doctor` prints it. */
export function formatBackendReport(r: BackendReport): string {
  const lines = [
    `backend:   ${r.chosen} (tf backend '${r.tfBackend}', package ${r.packageVersion}, tfjs ${r.tfjsVersion})`,
    `ops:       ${r.opsMode}`,
  ];
  if (r.tfBackend === 'wasm') lines.push(`simd:      ${r.simd ? 'yes' : 'no'}`, `threads:   ${r.threads ? 'yes' : 'no (one thread)'}`);
  lines.push('ladder:');
  const tried = new Map(r.attempts.map((a) => [a.backend, a]));
  for (const b of BACKENDS) {
    const a = tried.get(b);
    const mark = !a ? '·' : a.ok ? '✓' : '✗';
    lines.push(`  ${mark} ${b.padEnd(15)} ${a ? a.reason : 'not tried (a higher rung was chosen or one was forced)'}`);
  }
  return lines.join('\n');
}
