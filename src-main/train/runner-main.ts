/**
 * Entry of the training runner process (built to out/main/runner.js). The CLI starts it with `child_process.fork`,
 * the desktop app with `utilityProcess.fork`; either way it speaks only through `childTransport()`.
 */
import { childTransport } from './transport';
import { serveRunner } from './runner';
import { runTorch } from '../jobs/torch-run';
import { runSlurm } from '../jobs/slurm/slurm-run';

// The entry point sits above every layer, so it hands train/ the torch engine's drivers (jobs/): torchrun here, or a
// Slurm job.
serveRunner(childTransport(), undefined, (o) => (o.config.engine === 'slurm' ? runSlurm(o) : runTorch(o)));
