/**
 * Validation before BN recalibration (docs/STORE.md, `epoch_metrics`): the trainer measures each validated subnet
 * twice, with the supernet's running BN statistics as training leaves them (never updated, so mean 0 and variance 1,
 * METHOD.md §2.1 and §4) and with statistics recalibrated on training batches; `val_top1`/`val_loss` stay the calibrated
 * ones. NULL in rows written before this migration, which measured only after calibration.
 */
export const sql = `
ALTER TABLE epoch_metrics ADD COLUMN val_top1_before REAL
  CHECK (val_top1_before IS NULL OR (val_top1_before >= 0 AND val_top1_before <= 1));
ALTER TABLE epoch_metrics ADD COLUMN val_loss_before REAL;
`;
