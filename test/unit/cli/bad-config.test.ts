import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../lib/paths.js';

function zfslab(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'zfslab.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) pids.push(Number(entry));
    } catch {
      // process went away
    }
  }
  return pids;
}

describe('zfslab up with a bad config', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  const cases: { name: string; file?: string; env?: Record<string, string>; key: RegExp }[] = [
    { name: 'a misspelt key', file: 'temporal:\n  adress: 127.0.0.1:7233\n', key: /temporal\.adress: got .*expected no such key/ },
    { name: 'a value of the wrong type', file: 's3:\n  consolePort: "ninety"\n', key: /s3\.consolePort: got "ninety", expected .*number/ },
    { name: 'an out-of-range number', file: 'host:\n  maxVms: 0\n', key: /host\.maxVms: got 0, expected/ },
    {
      name: 'a malformed endpoint from the environment',
      env: { ZFSLAB_S3_ENDPOINT: 'ftp://nowhere' },
      key: /s3\.endpoint \(from ZFSLAB_S3_ENDPOINT\): got "ftp:\/\/nowhere"/,
    },
    { name: 'a file that is not YAML', file: 'temporal: [unclosed\n', key: /\(file\): got .*expected valid YAML or JSON/ },
  ];

  it.each(cases)('$name: names the problem, exits 2 and starts nothing', async ({ file, env, key }) => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-badcfg-'));
    dirs.push(dir);
    const stateDir = join(dir, 'state');
    const configPath = join(dir, 'zfslab.config.yaml');
    writeFileSync(configPath, `stateDir: ${stateDir}\n${file ?? ''}`);
    const result = await zfslab(['--config', configPath, 'up'], { ...process.env, ZFSLAB_CONFIG: '', ...env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/config error/);
    expect(result.stderr).toMatch(key);
    expect(existsSync(join(stateDir, 'run'))).toBe(false);
    expect(processesUsing(stateDir)).toEqual([]);
  });

  it('a config file that does not exist is named', async () => {
    const result = await zfslab(['--config', '/nonexistent/zfslab.yaml', 'status'], { ...process.env, ZFSLAB_CONFIG: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/nonexistent/zfslab.yaml');
  });
});
