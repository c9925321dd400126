import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../lib/exec/run-command.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import { SshExecutor } from '../../lib/exec/ssh-executor.js';

/**
 * Copies a guest directory tree to the host: tar in the guest (as root, since tests leave
 * root-owned files), one SFTP download, tar -x on the host.
 */
export async function copyTreeFromGuest(ssh: SshExecutor, remoteDir: string, localDir: string, timeoutMs = 600_000): Promise<void> {
  const archive = SshExecutor.tempPath('.tar.gz');
  const pack = await ssh.exec(`sudo -n tar -C ${shellQuote(remoteDir)} -czf ${archive} . && sudo -n chmod 644 ${archive}`, { timeoutMs });
  if (pack.exitCode !== 0) throw new Error(`cannot pack ${remoteDir} in the guest: ${pack.stderr.slice(-400)}`);
  mkdirSync(localDir, { recursive: true });
  const localArchive = join(localDir, '..', `.${Date.now()}-results.tar.gz`);
  try {
    await ssh.download(archive, localArchive);
    await runCommand('tar', ['-C', localDir, '-xzf', localArchive]);
  } finally {
    rmSync(localArchive, { force: true });
    await ssh.exec(`sudo -n rm -f ${archive}`).catch(() => undefined);
  }
}
