import type { LocalRunnerTarget } from './local-target.js';
import { testRunnerArgv, type RunnerInvocation, type RunnerTarget, type RunningRunner, type SpawnRunnerOptions } from './runner-target.js';

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
    private readonly inner: Pick<LocalRunnerTarget, 'writeFile' | 'listDir' | 'spawnArgv'>,
    private readonly signal = 'KILL',
  ) {}

  writeFile(path: string, content: string): Promise<void> {
    return this.inner.writeFile(path, content);
  }

  listDir(path: string): Promise<string[]> {
    return this.inner.listDir(path);
  }

  spawnRunner(invocation: RunnerInvocation, options: SpawnRunnerOptions): RunningRunner {
    return this.inner.spawnArgv(['setpriv', `--pdeathsig=${this.signal}`, '--', ...testRunnerArgv(invocation)], options);
  }
}
