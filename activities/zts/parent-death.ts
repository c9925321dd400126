import type { RunnerTarget, RunningRunner, SpawnRunnerOptions } from './runner-target.js';

/**
 * A local runner that dies with the worker. The runner leads a process group of its own (so that a
 * cancel can kill it as a whole), which also means a `kill -9` of the worker leaves it running as an
 * orphan: it would go on running tests the retry runs again. `setpriv --pdeathsig KILL` (util-linux)
 * asks the kernel to SIGKILL it when the worker's thread that spawned it dies; the retry then starts
 * from the checkpoint while nothing else runs (a test it had started under sudo may finish on its
 * own, and ./leftovers.ts kills it).
 */
export class ParentDeathTarget implements RunnerTarget {
  constructor(
    private readonly inner: RunnerTarget,
    private readonly signal = 'KILL',
  ) {}

  writeFile(path: string, content: string): Promise<void> {
    return this.inner.writeFile(path, content);
  }

  listDir(path: string): Promise<string[]> {
    return this.inner.listDir(path);
  }

  spawnRunner(argv: readonly string[], options: SpawnRunnerOptions): RunningRunner {
    return this.inner.spawnRunner(['setpriv', `--pdeathsig=${this.signal}`, '--', ...argv], options);
  }
}
