/**
 * Entry of the training runner process (built to out/main/runner.js). The CLI starts it with `child_process.fork`,
 * the desktop app with `utilityProcess.fork`; either way it speaks only through `childTransport()`.
 */
import { tracePhase } from './startup-trace';
import { childTransport } from './transport';
import { serveRunner } from './run-runner';
import { runTorch } from './torch-run';
import { runSlurm } from './slurm/slurm-run';

// The runner takes the torch engine's drivers as an argument (torchrun here, or a Slurm job), so its tests can run
// without one.
tracePhase('runnerLoaded');
serveRunner(childTransport(), undefined, (o) => (o.config.engine === 'slurm' ? runSlurm(o) : runTorch(o)));
