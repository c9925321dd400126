import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROVISIONED_MARKER, buildNoCloudSeed } from '../../../core/vm/cloud-init.js';

const input = {
  instanceId: 'zfslab-debian13-cloud-ztest-0123456789abcdef',
  hostname: 'zfslab',
  user: 'zts',
  authorizedKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClientKey zfslab@golden',
  hostKey: {
    privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey root@zfslab',
  },
  repoCommands: ["sed -i 's/main$/main contrib/' /etc/apt/sources.list.d/debian.sources", 'apt-get update'],
  packages: ['zfs-dkms', 'zfsutils-linux', 'zfs-test'],
};

describe('NoCloud seed', () => {
  const seed = buildNoCloudSeed(input);
  const userData = parse(seed['user-data']) as Record<string, unknown>;

  it('starts user-data with #cloud-config (cloud-init ignores it otherwise)', () => {
    expect(seed['user-data'].split('\n')[0]).toBe('#cloud-config');
  });

  it('names the instance and host in meta-data', () => {
    expect(parse(seed['meta-data'])).toEqual({ 'instance-id': input.instanceId, 'local-hostname': 'zfslab' });
  });

  it('adds the test user with our key and passwordless sudo, no passwords', () => {
    expect(userData.users).toEqual([
      { name: 'zts', shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: [input.authorizedKey] },
    ]);
    expect(userData.ssh_pwauth).toBe(false);
  });

  it('installs the host key made at build time and generates no others', () => {
    expect(userData.ssh_keys).toEqual({ ed25519_private: input.hostKey.privateKey, ed25519_public: input.hostKey.publicKey });
    expect(userData.ssh_deletekeys).toBe(true);
    expect(userData.ssh_genkeytypes).toEqual([]);
  });

  it('sets up the repository, installs the packages, marks success, disables cloud-init, then powers off', () => {
    const runcmd = userData.runcmd as string[][];
    expect(runcmd).toHaveLength(1);
    expect(runcmd[0]!.slice(0, 2)).toEqual(['sh', '-ec']);
    const lines = runcmd[0]![2]!.split('\n');
    const repoAt = lines.indexOf('apt-get update');
    const installAt = lines.findIndex((s) => s.includes('apt-get install -y --no-install-recommends zfs-dkms zfsutils-linux zfs-test'));
    const markAt = lines.findIndex((s) => s.includes(PROVISIONED_MARKER));
    expect(repoAt).toBeGreaterThan(0);
    expect(installAt).toBeGreaterThan(repoAt);
    expect(markAt).toBeGreaterThan(installAt);
    expect(lines.at(-1)).toBe('touch /etc/cloud/cloud-init.disabled');
    expect(lines[installAt]).toContain('dnf install -y zfs-dkms zfsutils-linux zfs-test');
    expect(userData.power_state).toMatchObject({ mode: 'poweroff' });
  });

  it('gives root the same key (quoted safely)', () => {
    const script = (userData.runcmd as string[][])[0]![2]!;
    expect(script.split('\n')[0]).toContain(`echo '${input.authorizedKey}' > /root/.ssh/authorized_keys`);
  });

  it('asks for DHCP on the first NIC', () => {
    expect(parse(seed['network-config'])).toEqual({ version: 2, ethernets: { primary: { match: { name: 'e*' }, dhcp4: true } } });
  });
});
