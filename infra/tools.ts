import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { localExecutor } from '../lib/exec/local.js';
import type { Logger } from '../lib/log.js';

/**
 * The real services, pinned. Temporal CLI tags after v1.5.1 carry a `replace` directive in go.mod
 * and cannot be `go install`ed; MinIO publishes no semver tags, so it is pinned by pseudo-version.
 */
export const PINNED_TOOLS = {
  temporal: { module: 'github.com/temporalio/cli', pkg: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1' },
  minio: { module: 'github.com/minio/minio', pkg: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c' },
} as const;

export type ToolName = keyof typeof PINNED_TOOLS;

export function toolPath(toolsDir: string, name: ToolName): string {
  return join(toolsDir, 'bin', name);
}

/**
 * The module version baked into a Go binary (`go version -m`), or undefined when the file is
 * missing or not a Go binary. This is how "already present at the pinned version" is decided:
 * the binary's own build info, not a marker file that could lie.
 */
export async function installedVersion(binary: string, module: string): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined;
  const result = await localExecutor.exec(['go', 'version', '-m', binary], { timeoutMs: 60_000 });
  if (result.exitCode !== 0) return undefined;
  for (const line of result.stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if ((fields[0] === 'mod' || fields[0] === 'dep') && fields[1] === module) return fields[2];
  }
  return undefined;
}

export interface EnsureResult {
  name: ToolName;
  path: string;
  version: string;
  /** False when the binary was already there at the pinned version. */
  built: boolean;
  seconds: number;
}

/** Installs one pinned tool into `<toolsDir>/bin` with `go install`, unless it is already there. */
export async function ensureTool(toolsDir: string, name: ToolName, log: Logger): Promise<EnsureResult> {
  const spec = PINNED_TOOLS[name];
  const path = toolPath(toolsDir, name);
  const started = Date.now();
  const have = await installedVersion(path, spec.module);
  if (have === spec.version) return { name, path, version: have, built: false, seconds: 0 };
  mkdirSync(join(toolsDir, 'bin'), { recursive: true });
  log.info({ tool: name, version: spec.version, have }, 'go install (first run on a machine takes several minutes)');
  const install = await localExecutor.exec(['go', 'install', `${spec.pkg}@${spec.version}`], {
    env: { ...process.env, GOBIN: join(toolsDir, 'bin') },
    maxCapture: 8000,
    // Measured 7.5 min cold on 2 cores; a build that takes an hour is stuck (a dead module proxy).
    timeoutMs: 60 * 60_000,
  });
  if (install.spawnError) throw new Error(`cannot run go (is Go installed and on PATH?): ${install.spawnError}`);
  if (install.exitCode !== 0)
    throw new Error(
      `go install ${spec.pkg}@${spec.version} failed (${install.timedOut ? 'timed out after 60 min' : (install.exitCode ?? install.exitSignal)}):\n${install.stderr}`,
    );
  const built = await installedVersion(path, spec.module);
  if (built !== spec.version) throw new Error(`${path} reports version ${built ?? 'none'} after go install, expected ${spec.version}`);
  return { name, path, version: built, built: true, seconds: (Date.now() - started) / 1000 };
}

export async function ensureTools(toolsDir: string, log: Logger): Promise<EnsureResult[]> {
  // Sequential on purpose: two concurrent go builds on a 2-core host are slower than one after the other.
  const results: EnsureResult[] = [];
  for (const name of Object.keys(PINNED_TOOLS) as ToolName[]) results.push(await ensureTool(toolsDir, name, log));
  return results;
}
