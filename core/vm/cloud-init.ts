import { stringify } from 'yaml';
import { shellQuote } from '../text/shell-quote.js';

/**
 * The NoCloud seed (a `cidata` volume with meta-data, user-data, network-config) that turns a
 * distro's cloud image into a golden: the test user with our key and passwordless sudo, the host
 * key made at build time (so clones are reached with it pinned), the distro's OpenZFS repository
 * and packages, then power-off so the disk can be snapshotted.
 */
export interface NoCloudSeedInput {
  instanceId: string;
  hostname: string;
  user: string;
  /** "ssh-ed25519 AAAA… comment" for the user's (and root's) authorized_keys. */
  authorizedKey: string;
  /** The ed25519 host key pair made on the build host. */
  hostKey: { privateKey: string; publicKey: string };
  /** Run in order before the packages are installed (repository setup). */
  repoCommands: readonly string[];
  packages: readonly string[];
  /** Run after the packages (e.g. check that zfs.ko exists for the running kernel). */
  postCommands?: readonly string[];
}

export interface NoCloudSeed {
  'meta-data': string;
  'user-data': string;
  'network-config': string;
}

export function buildNoCloudSeed(input: NoCloudSeedInput): NoCloudSeed {
  const metaData = stringify({ 'instance-id': input.instanceId, 'local-hostname': input.hostname });
  const userData = {
    hostname: input.hostname,
    disable_root: false,
    ssh_pwauth: false,
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: input.hostKey.privateKey, ed25519_public: input.hostKey.publicKey },
    users: [
      {
        name: input.user,
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [input.authorizedKey],
      },
    ],
    // One script, in order, stopping at the first failure: the marker file (checked when the golden
    // is verified) exists only if every command worked. cloud-init is then disabled so that clones
    // never re-run it (a re-run as a new instance would replace the pinned host key).
    runcmd: [['sh', '-ec', provisionScript(input)]],
    power_state: { mode: 'poweroff', delay: 'now', message: 'zfslab golden provisioned', timeout: 30, condition: true },
  };
  // cloud-init reads user-data only with this first line.
  const userDataText = `#cloud-config\n${stringify(userData, { lineWidth: 0 })}`;
  const networkConfig = stringify({ version: 2, ethernets: { primary: { match: { name: 'e*' }, dhcp4: true } } });
  return { 'meta-data': metaData, 'user-data': userDataText, 'network-config': networkConfig };
}

export const PROVISIONED_MARKER = '/var/lib/zfslab/provisioned';

export function provisionScript(input: NoCloudSeedInput): string {
  return [
    `install -d -m 700 /root/.ssh && echo ${shellQuote(input.authorizedKey)} > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`,
    ...input.repoCommands,
    ...(input.packages.length > 0 ? [installCommand(input.packages)] : []),
    ...(input.postCommands ?? []),
    `mkdir -p ${PROVISIONED_MARKER.replace(/\/[^/]+$/, '')} && date -u +%FT%TZ > ${PROVISIONED_MARKER}`,
    'touch /etc/cloud/cloud-init.disabled',
  ].join('\n');
}

/** apt or dnf, whichever the image has (cloud-init runs runcmd in /bin/sh). */
function installCommand(packages: readonly string[]): string {
  const list = packages.join(' ');
  return `if command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list}; else dnf install -y ${list}; fi`;
}
