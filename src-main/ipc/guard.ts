/**
 * The gate every IPC handler in main goes through: the renderer is untrusted, so each call must come from the
 * app's own page and carry arguments of the expected shape. Electron-free (the event is typed structurally) so the
 * gate is unit-tested under plain Node.
 */
import { isAppUrl } from './app-url';

/** The part of Electron's `IpcMainInvokeEvent` the gate reads. */
export interface IpcSenderEvent {
  /** Null when the frame navigated away or was destroyed before main looked. */
  readonly senderFrame: { readonly url: string } | null;
}

/** Thrown (and so delivered to the renderer as a rejected promise) when a call is refused. */
export class IpcRefusedError extends Error {
  override name = 'IpcRefusedError';
}

/** Turns the raw argument list into the handler's typed arguments, or throws saying what is wrong. */
export type ArgsParser<A extends unknown[]> = (args: unknown[]) => A;

/** For channels that take nothing. */
export const noArgs: ArgsParser<[]> = (args) => {
  if (args.length !== 0) throw new Error(`expected no arguments, got ${args.length}`);
  return [];
};

/**
 * Wraps `handler` for `ipcMain.handle(channel, ...)`: refuses calls whose sender frame is not the app's page
 * (see {@link isAppUrl}) and calls whose arguments `parse` rejects, before the handler runs.
 */
export function guardHandler<A extends unknown[], R>(
  channel: string,
  appUrl: string,
  parse: ArgsParser<A>,
  handler: (...args: A) => R,
): (event: IpcSenderEvent, ...args: unknown[]) => R {
  return (event, ...args) => {
    const from = event.senderFrame?.url;
    if (!isAppUrl(from, appUrl)) {
      throw new IpcRefusedError(`${channel}: refused a call from ${from === undefined ? 'a destroyed frame' : from}`);
    }
    let parsed: A;
    try {
      parsed = parse(args);
    } catch (e) {
      throw new IpcRefusedError(`${channel}: bad arguments: ${e instanceof Error ? e.message : String(e)}`);
    }
    return handler(...parsed);
  };
}
