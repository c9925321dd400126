import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { CloudImageInputs } from '../../core/catalog/schema.js';
import { buildNoCloudSeed } from '../../core/vm/cloud-init.js';
import { findGuestCrash } from '../../core/vm/qemu-argv.js';
import { freeLocalPort } from '../vm/qemu-hypervisor.js';
import { runCommand } from '../../lib/exec/run-command.js';
import { GUEST_HOSTNAME, GUEST_USER } from './debootstrap-steps.js';
import { readCheckpoint } from './checkpoint.js';
import type { StepContext, StepData } from './step-context.js';
import { chooseHypervisor, verifyGolden } from './verify.js';

/**
 * The cloud-image builder: a distro's published image + checksum, a NoCloud seed (user, keys, host
 * key, OpenZFS repository and packages), one boot that provisions and powers off, then the same
 * verification as every golden.
 */

function inputs(ctx: StepContext): CloudImageInputs {
  if (ctx.flavor.builder.kind !== 'cloud-image') throw new Error(`${ctx.flavor.id} is not a cloud-image flavor`);
  return ctx.flavor.builder;
}

/** Downloads (http/https) or copies (file://) to `dest`. */
export async function fetchUrl(url: string, dest: string): Promise<void> {
  if (url.startsWith('file://')) {
    copyFileSync(fileURLToPath(url), dest);
    return;
  }
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(dest));
}

async function fileDigest(path: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The digest for `fileName` in a SHA256SUMS-style file (GNU `<hex>  name` or BSD `SHA256 (name) = <hex>`). */
export function digestFromSums(sums: string, fileName: string): string | undefined {
  for (const line of sums.split('\n')) {
    const gnu = /^([0-9a-f]{64,128})\s+\*?(\S+)$/.exec(line.trim());
    if (gnu && basename(gnu[2]!) === fileName) return gnu[1];
    const bsd = /^SHA(?:256|512) \((.+)\) = ([0-9a-f]{64,128})$/.exec(line.trim());
    if (bsd && basename(bsd[1]!) === fileName) return bsd[2];
  }
  return undefined;
}

export async function stepFetchImage(ctx: StepContext): Promise<StepData> {
  const b = inputs(ctx);
  mkdirSync(ctx.paths.outDir, { recursive: true });
  const base = join(ctx.paths.buildDir, 'base.img');
  await fetchUrl(b.imageUrl, base);
  let expected: string | undefined;
  let algorithm: 'sha256' | 'sha512';
  if (b.checksum.kind === 'sums-url') {
    algorithm = b.checksum.algorithm;
    const sumsFile = join(ctx.paths.buildDir, 'SUMS');
    await fetchUrl(b.checksum.url, sumsFile);
    expected = digestFromSums(readFileSync(sumsFile, 'utf8'), basename(new URL(b.imageUrl).pathname));
    if (!expected) throw new Error(`${b.checksum.url} lists no checksum for ${b.imageUrl}`);
  } else {
    algorithm = b.checksum.kind;
    expected = b.checksum.value;
  }
  const actual = await fileDigest(base, algorithm);
  if (actual !== expected) throw new Error(`checksum mismatch for ${b.imageUrl}: ${algorithm} ${actual}, expected ${expected}`);
  const disk = join(ctx.paths.outDir, 'disk.qcow2');
  await runCommand('qemu-img', ['convert', '-O', 'qcow2', base, disk], ctx.runOptions);
  await runCommand('qemu-img', ['resize', '-q', disk, `${b.diskSizeGiB}G`], ctx.runOptions);
  rmSync(base, { force: true });
  const boot: Record<string, string> = {};
  if (b.directKernel) {
    await fetchUrl(b.directKernel.kernelUrl, join(ctx.paths.outDir, 'vmlinuz'));
    await fetchUrl(b.directKernel.initrdUrl, join(ctx.paths.outDir, 'initrd.img'));
    Object.assign(boot, { kernel: 'vmlinuz', initrd: 'initrd.img', kernelCmdline: b.directKernel.cmdline });
  }
  return { disk: 'disk.qcow2', diskFormat: 'qcow2', [algorithm]: actual, ...boot };
}

/** Keys made on the build host and the NoCloud seed as a vfat volume labelled CIDATA. */
export async function stepSeed(ctx: StepContext): Promise<StepData> {
  const b = inputs(ctx);
  rmSync(ctx.paths.sshDir, { recursive: true, force: true });
  mkdirSync(ctx.paths.sshDir, { recursive: true, mode: 0o700 });
  const hostKey = join(ctx.paths.buildDir, 'ssh_host_ed25519_key');
  rmSync(hostKey, { force: true });
  rmSync(`${hostKey}.pub`, { force: true });
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${GUEST_HOSTNAME}`, '-f', hostKey]);
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `zfslab@${ctx.name}`, '-f', join(ctx.paths.sshDir, 'id_ed25519')]);
  copyFileSync(`${hostKey}.pub`, join(ctx.paths.sshDir, 'host_ed25519_key.pub'));
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim();
  const seed = buildNoCloudSeed({
    instanceId: ctx.name,
    hostname: GUEST_HOSTNAME,
    user: GUEST_USER,
    authorizedKey: readFileSync(join(ctx.paths.sshDir, 'id_ed25519.pub'), 'utf8').trim(),
    hostKey: { privateKey: readFileSync(hostKey, 'utf8'), publicKey: hostPublicKey },
    repoCommands: b.zfsRepoCommands,
    packages: [...b.zfsPackages, ...ctx.flavor.lineages[ctx.lineage].packages],
    postCommands: ['modprobe zfs', 'zfs version'],
  });
  const seedDir = join(ctx.paths.buildDir, 'seed');
  rmSync(seedDir, { recursive: true, force: true });
  mkdirSync(seedDir);
  for (const [name, text] of Object.entries(seed)) writeFileSync(join(seedDir, name), text);
  const image = join(ctx.paths.buildDir, 'seed.img');
  rmSync(image, { force: true });
  await runCommand('mkfs.vfat', ['-n', 'CIDATA', '-C', image, '2048']);
  await runCommand('mcopy', ['-i', image, ...Object.keys(seed).map((n) => join(seedDir, n)), '::']);
  rmSync(hostKey, { force: true });
  return { seedImage: image, user: GUEST_USER, hostPublicKey: hostPublicKey.split(/\s+/).slice(0, 2).join(' ') };
}

/** One boot with the seed attached; cloud-init provisions and powers the VM off. */
export async function stepProvision(ctx: StepContext): Promise<StepData> {
  const fetched = readCheckpoint(ctx.paths.stepsDir, 'fetch-image')?.data;
  const seeded = readCheckpoint(ctx.paths.stepsDir, 'seed')?.data;
  if (!fetched || !seeded) throw new Error('provision needs fetch-image and seed');
  const dir = join(ctx.paths.buildDir, 'provision');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const kernel = typeof fetched.kernel === 'string' ? join(ctx.paths.outDir, fetched.kernel) : undefined;
  const hypervisor = await chooseHypervisor(ctx, kernel);
  const spec = {
    name: `zfslab-provision-${ctx.flavor.id}`,
    cpus: ctx.flavor.vm.cpus,
    memoryMiB: Math.min(ctx.flavor.vm.memoryMiB, 4096),
    disks: [
      { path: join(ctx.paths.outDir, String(fetched.disk)), format: 'qcow2' as const },
      { path: String(seeded.seedImage), format: 'raw' as const, readOnly: true },
    ],
    kernel: kernel ? { path: kernel, initrd: join(ctx.paths.outDir, String(fetched.initrd)), append: String(fetched.kernelCmdline) } : undefined,
    sshHostPort: await freeLocalPort(),
    serialLogPath: join(dir, 'serial.log'),
    qmpSocketPath: join(dir, 'qmp.sock'),
    pidFilePath: join(dir, 'qemu.pid'),
  };
  const started = performance.now();
  const vm = await hypervisor.start(spec);
  const deadline = Date.now() + 3 * 3600_000;
  try {
    while (hypervisor.isRunning(vm)) {
      if (ctx.runOptions.signal?.aborted) throw new Error('cancelled');
      if (Date.now() > deadline) throw new Error('provisioning did not power off within 3 h');
      const crash = findGuestCrash(readFileSync(spec.serialLogPath, 'utf8'));
      if (crash) throw new Error(`guest crashed while provisioning: ${crash}`);
      ctx.runOptions.onLine?.(`provisioning (${Math.round((performance.now() - started) / 1000)} s)`, 'stdout');
      await new Promise((r) => setTimeout(r, 5_000));
    }
  } finally {
    await hypervisor.kill(vm);
    copyFileSync(spec.serialLogPath, join(ctx.paths.outDir, 'provision-serial.log'));
  }
  return { seconds: Math.round((performance.now() - started) / 1000) };
}

export async function stepCloudVerify(ctx: StepContext): Promise<StepData> {
  const fetched = readCheckpoint(ctx.paths.stepsDir, 'fetch-image')?.data;
  const seeded = readCheckpoint(ctx.paths.stepsDir, 'seed')?.data;
  if (!fetched || !seeded) throw new Error('verify needs fetch-image and seed');
  return verifyGolden(ctx, {
    name: ctx.name,
    dir: ctx.paths.outDir,
    boot: {
      disk: String(fetched.disk),
      diskFormat: 'qcow2',
      ...(typeof fetched.kernel === 'string' ? { kernel: fetched.kernel, initrd: String(fetched.initrd), kernelCmdline: String(fetched.kernelCmdline) } : {}),
    },
    ssh: { user: String(seeded.user), privateKeyFile: 'ssh/id_ed25519', hostPublicKey: String(seeded.hostPublicKey) },
  });
}
