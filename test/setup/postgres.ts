import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir, a free port on 127.0.0.1,
 * trust auth, fsync off. PostgreSQL refuses to run as root, so as root the cluster belongs to the
 * `postgres` system user and every command goes through `runuser`. `stop()` always removes the
 * directory, and an exit hook stops a cluster a crashed test run left behind.
 *
 * Needs Debian's `postgresql` package (listed in infra/host-packages.txt).
 */

const run = promisify(execFile);

export interface StartedPostgres {
  readonly port: number;
  readonly dataDir: string;
  /** Connection string for a database on this cluster (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest installed server's bin dir, or $ZFSLAB_PG_BIN. */
export function findPostgresBin(): string {
  const fromEnv = process.env.ZFSLAB_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) throw new Error('no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)');
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function asOwner(isRoot: boolean, command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

export async function startPostgres(): Promise<StartedPostgres> {
  const bin = findPostgresBin();
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'zfslab-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const pgCtl = (args: string[]) => asOwner(isRoot, join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  let started = false;
  const stopSync = () => {
    if (started) {
      const [command, args] = pgCtl(['-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(command, args, { stdio: 'ignore' });
      } catch {
        // Already down; the directory still goes.
      }
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);

  try {
    const [initdb, initArgs] = asOwner(isRoot, join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await run(initdb, initArgs);
    const port = await freePort();
    const serverOptions = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    const [ctl, startArgs] = pgCtl(['-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    started = true;
    await run(ctl, startArgs);

    const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
    return {
      port,
      dataDir,
      url,
      async createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        const client = new pg.Client({ connectionString: url() });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      async stop() {
        process.removeListener('exit', stopSync);
        if (started) {
          // `smart` waits for sessions to end: a pool that has just been ended may still be saying
          // goodbye, and a `fast` stop would kill that session with an error the test never sees.
          const [command, args] = pgCtl(['-m', 'smart', '-w', '-t', '20', 'stop']);
          try {
            await run(command, args);
            started = false;
          } catch {
            // Falls through to the immediate stop in stopSync.
          }
        }
        stopSync();
      },
    };
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    process.removeListener('exit', stopSync);
    stopSync();
    throw new Error(`starting a throwaway PostgreSQL failed: ${(err as Error).message}\n${log}`);
  }
}
