/**
 * Analytic MACs and parameter counts (METHOD.md §6): MACs of every executed conv, (C_in/groups)·k²·C_out·H_out·W_out, and
 * of every linear, in·out; reported in millions as "MFLOPs" like the paper. SE convs and the feature-mix conv count
 * at 1×1, the shortcut conv at the block's output size and only when channels differ. BN, activations, biases, the
 * SE multiply, residual adds, pools and the input resize are not counted.
 *
 * Parameters are the effective count: conv/linear weights, BN γ and β, SE and classifier biases.
 */
import type { Genome, SearchSpace } from './schema';
import { subnetPlan, type SubnetPlan } from './plan';

export interface Cost {
  /** Millions of multiply-accumulates at batch 1. */
  mflops: number;
  /** Millions of parameters. */
  mparams: number;
  macs: number;
  params: number;
}

/** Named MAC terms of one subnet, in execution order: the single source of both totals. */
export function macTerms(plan: SubnetPlan): { name: string; macs: number; params: number }[] {
  const t: { name: string; macs: number; params: number }[] = [];
  const { first, head } = plan;
  t.push({
    name: 'first_conv',
    macs: first.cIn * first.kernel ** 2 * first.cOut * first.outSize ** 2,
    params: first.cIn * first.kernel ** 2 * first.cOut + 2 * first.cOut,
  });
  for (const b of plan.blocks) {
    const id = `s${b.stage}b${b.block}`;
    if (b.hasExpand) t.push({ name: `${id}.expand`, macs: b.cIn * b.cMid * b.inSize ** 2, params: b.cIn * b.cMid + 2 * b.cMid });
    t.push({ name: `${id}.depthwise`, macs: b.kernel ** 2 * b.cMid * b.outSize ** 2, params: b.kernel ** 2 * b.cMid + 2 * b.cMid });
    if (b.cSe > 0) {
      t.push({ name: `${id}.se_reduce`, macs: b.cMid * b.cSe, params: b.cMid * b.cSe + b.cSe });
      t.push({ name: `${id}.se_expand`, macs: b.cSe * b.cMid, params: b.cSe * b.cMid + b.cMid });
    }
    t.push({ name: `${id}.project`, macs: b.cMid * b.cOut * b.outSize ** 2, params: b.cMid * b.cOut + 2 * b.cOut });
    if (b.shortcutConv) t.push({ name: `${id}.shortcut`, macs: b.cIn * b.cOut * b.outSize ** 2, params: b.cIn * b.cOut });
  }
  t.push({ name: 'head.expand', macs: head.cIn * head.cExpand * head.size ** 2, params: head.cIn * head.cExpand + 2 * head.cExpand });
  t.push({ name: 'head.feature_mix', macs: head.cExpand * head.cLast, params: head.cExpand * head.cLast });
  t.push({ name: 'classifier', macs: head.cLast * head.numClasses, params: head.cLast * head.numClasses + head.numClasses });
  return t;
}

export function planCost(plan: SubnetPlan): Cost {
  let macs = 0;
  let params = 0;
  for (const term of macTerms(plan)) {
    macs += term.macs;
    params += term.params;
  }
  return { macs, params, mflops: macs / 1e6, mparams: params / 1e6 };
}

/** MFLOPs (MACs) and parameters of a subnet; `numClasses` overrides the space's classifier size. */
export function subnetCost(space: SearchSpace, g: Genome, numClasses = space.numClasses): Cost {
  return planCost(subnetPlan(space, g, numClasses));
}
