/**
 * Entry of the search runner process (built to out/main/search-runner.js). The CLI starts it with
 * `child_process.fork`, the desktop app with `utilityProcess.fork`; either way it speaks only through
 * `childTransport()`.
 */
import { childTransport } from './transport';
import { serveSearchRunner } from './search-runner';

serveSearchRunner(childTransport());
