/** A runner that crashed but is not reaped yet (a zombie) counts as gone, so its job can be resumed. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isZombie, pidAlive } from '../../../src-main/jobs/runner-process';

describe.runIf(process.platform === 'linux')('pidAlive', () => {
  it('is false for a zombie, true for a live process, false for no process', async () => {
    // sh starts a short child, prints its PID, then becomes `sleep 5` (exec), which never reaps it: a zombie.
    const p = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      expect(pidAlive(pid)).toBe(true); // still sleeping
      for (let i = 0; i < 100 && !isZombie(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isZombie(pid)).toBe(true);
      expect(pidAlive(pid)).toBe(false);
      expect(pidAlive(p.pid!)).toBe(true);
    } finally {
      p.kill('SIGKILL');
    }
    await new Promise((r) => p.once('exit', r));
    expect(pidAlive(p.pid!)).toBe(false);
  });
});
