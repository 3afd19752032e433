/**
 * `alphanet serve`: the workbench in a browser. Starts the service (src-main/service) and the served mode's server
 * (src-main/server) on 127.0.0.1, prints `serving at http://127.0.0.1:<port>/?token=<token>` as the first line of
 * stdout (tests and scripts parse it), and on SIGINT/SIGTERM pauses the runs it trains — each checkpoints, as when
 * the desktop app quits — and stops. A second signal leaves at once.
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { readSettings } from '../settings';
import { startServer } from '../server/server';
import { createWorkbenchService } from '../service';
import { findBuilt } from '../service/built-paths';
import type { CliContext } from './context';
import { CliError } from './errors';

const portArg = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be an integer from 0 to 65535, got '${v}'`);
  return n;
};

/** Resolves with the name of the first of `signals` the process receives. */
function nextSignal(signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handlers = signals.map((s) => {
      const h = () => {
        handlers.forEach(([sig, fn]) => process.off(sig, fn));
        resolve(s);
      };
      process.on(s, h);
      return [s, h] as const;
    });
  });
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('serve')
    .description('serve the workbench to a browser on 127.0.0.1 (prints the URL with its access token); Ctrl-C pauses running runs and stops')
    .option('--port <n>', 'TCP port (default 0: a free one)', portArg)
    .option(
      '--allow-folder <dir>',
      'a folder whose files the browser may import, save configs or export into (repeatable; default: settings.json "allowedFolders", else the data directory and your home folder)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (o: { port?: number; allowFolder?: string[] }) => {
      const home = ctx.home();
      for (const f of o.allowFolder ?? []) if (!isAbsolute(f)) throw new CliError(`--allow-folder must be an absolute path, got '${f}'`);
      const allowedFolders = o.allowFolder?.map((f) => resolve(f)) ?? readSettings(home).allowedFolders ?? [home, homedir()];
      let staticDir: string;
      try {
        staticDir = dirname(findBuilt('../renderer/index.html', { what: 'the built renderer' }));
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const service = createWorkbenchService({ home, mode: 'served', allowedFolders });
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({ service, staticDir, port: o.port ?? 0 });
      } catch (e) {
        await service.close({ pauseRuns: false });
        const err = e as NodeJS.ErrnoException;
        throw new CliError(err.code === 'EADDRINUSE' ? `port ${o.port} is in use; pick another with --port, or 0 for a free one` : err.message);
      }
      io.out(`serving at ${server.url}\n`);
      io.err(`data directory: ${home}\nfiles: the browser may read and write only in ${allowedFolders.join(', ')}\nCtrl-C pauses running runs (with a checkpoint) and stops the server.\n`);
      const signal = await nextSignal(['SIGINT', 'SIGTERM']);
      const again = () => process.exit(130);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      io.err(`${signal}: pausing running runs and stopping…\n`);
      await server.close();
      await service.close({ pauseRuns: true });
      process.off('SIGINT', again);
      process.off('SIGTERM', again);
      io.err('stopped\n');
    });
}
