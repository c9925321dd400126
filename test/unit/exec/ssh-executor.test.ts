import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { createServer, type AddressInfo } from 'node:net';
import { runCommand } from '../../../lib/exec/run-command.js';
import { shellQuote } from '../../../core/text/shell-quote.js';
import { HostKeyMismatch, SshExecutor, pinnedHostKeyVerifier, wrapInProcessGroup } from '../../../lib/exec/ssh-executor.js';

const { Server, utils } = ssh2;

/**
 * A real SSH server (ssh2's) on loopback with its own ed25519 host key: the executor must reach it
 * only when the pinned key is that key.
 */
const hostKeys = utils.generateKeyPairSync('ed25519');
const otherHostKeys = utils.generateKeyPairSync('ed25519');
const clientKeys = utils.generateKeyPairSync('ed25519');
const publicLine = (pub: string) => pub.trim().split(/\s+/).slice(0, 2).join(' ');
const clientPublicBlob = Buffer.from(publicLine(clientKeys.public).split(' ')[1]!, 'base64');

let server: InstanceType<typeof Server>;
let port = 0;
const commandsSeen: string[] = [];

beforeAll(async () => {
  server = new Server({ hostKeys: [hostKeys.private] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.data.equals(clientPublicBlob)) ctx.accept();
      else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          commandsSeen.push(info.command);
          const stream = acceptExec();
          if (info.command.includes('kill -KILL')) {
            stream.exit(0);
            stream.end();
            return;
          }
          if (info.command.includes('leaves-a-child')) {
            // The command exits, but something it left holds the channel open: no EOF, no close.
            stream.stderr.write('zfslab-pgid:4343\n');
            stream.write('parent done\n');
            stream.exit(0);
            return;
          }
          stream.stderr.write('zfslab-pgid:4242\n');
          stream.write('hello from the guest\n');
          stream.stderr.write('a warning\n');
          stream.exit(3);
          stream.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
});

describe('SshExecutor host-key pinning', () => {
  it('connects with the pinned key and reports stdout, stderr and the exit code', async () => {
    const ssh = await SshExecutor.connect({
      host: '127.0.0.1',
      port,
      username: 'zts',
      privateKey: clientKeys.private,
      hostPublicKey: publicLine(hostKeys.public),
    });
    try {
      const r = await ssh.exec('zfs version');
      expect(r).toMatchObject({ exitCode: 3, stdout: 'hello from the guest\n', stderr: 'a warning\n', timedOut: false });
      expect(commandsSeen.at(-1)).toBe(wrapInProcessGroup('zfs version'));
    } finally {
      ssh.close();
    }
  });

  it('quotes an argv into one command line, and does not wait past drainMs for a channel held open after the exit', async () => {
    const ssh = await SshExecutor.connect({
      host: '127.0.0.1',
      port,
      username: 'zts',
      privateKey: clientKeys.private,
      hostPublicKey: publicLine(hostKeys.public),
    });
    try {
      await ssh.exec(['printf', '%s', "it's"]);
      expect(commandsSeen.at(-1)).toBe(wrapInProcessGroup(`'printf' '%s' 'it'\\''s'`));
      const started = Date.now();
      const r = await ssh.exec('leaves-a-child', { drainMs: 300 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(r).toMatchObject({ exitCode: 0, stdout: 'parent done\n', timedOut: false });
      // What was left is killed as a group, from a second channel.
      expect(commandsSeen.at(-1)).toMatch(/^kill -KILL -- -4343 /);
    } finally {
      ssh.close();
    }
  });

  it('refuses a server whose host key is not the pinned one', async () => {
    await expect(
      SshExecutor.connect({ host: '127.0.0.1', port, username: 'zts', privateKey: clientKeys.private, hostPublicKey: publicLine(otherHostKeys.public) }),
    ).rejects.toBeInstanceOf(HostKeyMismatch);
  });

  it('fails, instead of waiting forever, when the peer sends its banner and closes before the handshake', async () => {
    // A guest sshd that is still starting sends its banner and drops the connection: ssh2 then
    // emits 'close' with no 'error' (seen booting a bullseye golden, which then hung the build).
    const closer = createServer((socket) => socket.end('SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3\r\n'));
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    try {
      const closerPort = (closer.address() as AddressInfo).port;
      await expect(
        SshExecutor.connect({
          host: '127.0.0.1',
          port: closerPort,
          username: 'zts',
          privateKey: clientKeys.private,
          hostPublicKey: publicLine(hostKeys.public),
        }),
      ).rejects.toThrow(/closed|lost/);
    } finally {
      closer.close();
    }
  }, 10_000);

  it('compares whole key blobs', () => {
    const verify = pinnedHostKeyVerifier(publicLine(hostKeys.public));
    const blob = Buffer.from(publicLine(hostKeys.public).split(' ')[1]!, 'base64');
    expect(verify(blob)).toBe(true);
    expect(verify(blob.subarray(0, blob.length - 1))).toBe(false);
    expect(() => pinnedHostKeyVerifier('not-a-key')).toThrow(/not an OpenSSH public key/);
  });
});

describe('remote command wrapping', () => {
  it('really runs in a new process group under sh, reports it, and keeps the exit code', async () => {
    const r = await runCommand('sh', ['-c', wrapInProcessGroup('echo out; echo err >&2; exit 7')], { okExitCodes: [7] });
    const [first, ...rest] = r.stderr.split('\n');
    const pgid = Number(first?.replace('zfslab-pgid:', ''));
    expect(pgid).toBeGreaterThan(1);
    expect(pgid).not.toBe(process.pid);
    expect(rest.join('\n')).toBe('err\n');
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n' });
  });

  it('runs the command in its own session and prints the pgid first, quoting safely', () => {
    const wrapped = wrapInProcessGroup(`echo 'it''s' "$HOME"`);
    expect(wrapped.startsWith('exec setsid -w sh -c ')).toBe(true);
    expect(wrapped.endsWith(shellQuote(`echo 'it''s' "$HOME"`))).toBe(true);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
