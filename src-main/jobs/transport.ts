/**
 * The runner's side of the parent channel, the only place that knows how it was started:
 * - under Electron's `utilityProcess.fork`, `process.parentPort` (messages arrive as `{ data }` events);
 * - under Node's `child_process.fork`, `process.send` / `process.on('message')`.
 * Messages are plain JSON-able objects in both.
 */
export interface ChildTransport {
  send(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** False once the parent is gone (Node fork) — training continues headless and finishes its run. */
  connected(): boolean;
  /** Resolves once every message sent so far has left the process (call before exiting). */
  drain(): Promise<void>;
}

interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

export function childTransport(): ChildTransport {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    // postMessage hands the message to Electron synchronously.
    return { send: (m) => parentPort.postMessage(m), onMessage: (cb) => parentPort.on('message', (e) => cb(e.data)), connected: () => true, drain: async () => {} };
  }
  if (process.send) {
    const pending = new Set<Promise<void>>();
    return {
      send: (m) => {
        if (!process.connected) return;
        const p = new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));
        pending.add(p);
        void p.then(() => pending.delete(p));
      },
      drain: async () => {
        await Promise.all([...pending]);
      },
      onMessage: (cb) => process.on('message', cb),
      connected: () => process.connected,
    };
  }
  throw new Error('the training runner must be started by the app or the CLI (no parent channel: neither parentPort nor an IPC channel)');
}
