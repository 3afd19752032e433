/**
 * Timestamps of a tracked torch run's phases, for `bench --parts torch` (src-main/bench/torch-bench.ts), which
 * compares a tracked run with the same torchrun command run by hand: where the difference goes (the runner's start,
 * the torch probe, the run directory, the wait after torchrun exits) is measured, not guessed. Off unless
 * ALPHANET_STARTUP_TRACE names a file; each phase appends one line `<phase> <epoch ms>`.
 */
import { appendFileSync } from 'node:fs';

export function tracePhase(phase: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.ALPHANET_STARTUP_TRACE;
  if (!file) return;
  try {
    appendFileSync(file, `${phase} ${Date.now()}\n`);
  } catch {
    // a measurement aid: never a reason for a run to fail
  }
}

/** The phases of a trace file, each at its first occurrence (ms since the epoch). */
export function readTrace(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [phase, t] = line.trim().split(' ');
    if (phase && Number.isFinite(Number(t)) && !(phase in out)) out[phase] = Number(t);
  }
  return out;
}
