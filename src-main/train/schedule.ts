/**
 * The learning rate, stepped per iteration (METHOD.md §2.1, AttentiveNAS `solver/lr_scheduler.py` `warmup_cosine_lr`):
 *
 *   lr(t) = base · w(t) · ½(1 + cos(π t / T_max)),  w(t) = f·(1 − t/T_w) + t/T_w for t < T_w, else 1,
 *
 * with t the 0-based index of the step about to run (PyTorch calls `scheduler.step()` after `optimizer.step()`, so
 * the first step uses lr(0)), T_max = total steps, T_w = warmup steps and f = 0.001. The cosine runs from t = 0: it is
 * multiplied with the warmup, not started after it. clamp_lr = 0, so it ends at 0.
 */
export interface LrSchedule {
  /** Base LR. */
  base: number;
  /** T_max: total optimizer steps of the run. */
  totalSteps: number;
  /** T_w: warmup steps (0 = none). */
  warmupSteps: number;
  /** f: the warmup's starting factor (default 0.001). */
  warmupStartFactor?: number;
}

export function learningRate(s: LrSchedule, t: number): number {
  if (!(s.totalSteps > 0)) throw new Error(`totalSteps must be positive, got ${s.totalSteps}`);
  const f = s.warmupStartFactor ?? 0.001;
  const w = t < s.warmupSteps ? f * (1 - t / s.warmupSteps) + t / s.warmupSteps : 1;
  const tt = Math.min(Math.max(t, 0), s.totalSteps);
  return s.base * w * 0.5 * (1 + Math.cos((Math.PI * tt) / s.totalSteps));
}
