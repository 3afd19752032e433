/**
 * A trained accuracy predictor as stored and used: the space it encodes, its MLP, and plain-JS scoring of genomes
 * (no TF.js, so Electron main may use it; see mlp.ts). Predictions are accuracies in [0, 1], the evaluations' unit.
 */
import type { Genome, SearchSpace } from '../../engine/core';
import { genomeEncoder, type GenomeEncoder } from './encoding';
import { checkMlp, mlpPredict, type Mlp } from './mlp';

export interface PredictorModel {
  spaceId: string;
  mlp: Mlp;
}

/** Scores genomes of `space` with a model trained on that space's encoding. */
export function genomeScorer(space: SearchSpace, model: PredictorModel, encoder: GenomeEncoder = genomeEncoder(space)): (gs: readonly Genome[]) => Float64Array {
  if (model.spaceId !== space.id) throw new RangeError(`the predictor was trained on space '${model.spaceId}', not '${space.id}'`);
  if (model.mlp.layout.input !== encoder.length) {
    throw new RangeError(`the predictor expects ${model.mlp.layout.input} features, space '${space.id}' encodes ${encoder.length} (the space changed since it was trained)`);
  }
  checkMlp(model.mlp);
  return (gs) => mlpPredict(model.mlp, encoder.encodeMany(gs), gs.length);
}
