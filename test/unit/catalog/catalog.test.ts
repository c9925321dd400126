import { describe, expect, it } from 'vitest';
import { FlavorListSchema, FlavorSchema, SHIPPED_FLAVORS, loadCatalog } from '../../../core/catalog/index.js';
import { UsageError } from '../../../lib/errors.js';

describe('shipped catalog', () => {
  it('has the five cloud-image and the three debootstrap flavors', () => {
    const catalog = loadCatalog();
    const byBuilder = (kind: string) =>
      catalog.flavors
        .filter((f) => f.builder.kind === kind)
        .map((f) => f.id)
        .sort();
    expect(byBuilder('debootstrap')).toEqual(['debian-sid', 'debian11', 'debian12', 'debian12-bpo', 'debian13', 'debian13-bpo']);
    expect(byBuilder('cloud-image')).toEqual(['centos9', 'debian13-cloud', 'fedora44', 'rocky9', 'ubuntu24']);
  });

  it('fills defaults (VM size, lineages) and keeps the backports suite of debian12-bpo', () => {
    const bpo = loadCatalog().get('debian12-bpo');
    expect(bpo.vm).toEqual({ cpus: 2, memoryMiB: 4096, vdevCount: 3, vdevSizeGiB: 4 });
    expect(bpo.builder.kind === 'debootstrap' && bpo.builder.backports).toBe('bookworm-backports');
    expect(bpo.lineages.ztest.packages).toContain('zfs-test');
    expect(bpo.lineages.lean.packages).not.toContain('zfs-test');
  });

  it('takes OpenZFS from trixie-backports but the kernel from trixie for debian13-bpo, and drops util-linux-extra on bullseye', () => {
    const catalog = loadCatalog();
    const bpo = catalog.get('debian13-bpo');
    expect(bpo.builder.kind === 'debootstrap' && [bpo.builder.backports, bpo.builder.kernelFrom]).toEqual(['trixie-backports', 'suite']);
    const d12 = catalog.get('debian12-bpo');
    expect(d12.builder.kind === 'debootstrap' && d12.builder.kernelFrom).toBeUndefined();
    expect(catalog.get('debian11').lineages.ztest.packages).not.toContain('util-linux-extra');
    expect(catalog.get('debian13').lineages.ztest.packages).toContain('util-linux-extra');
  });

  it('names an unknown flavor and lists the known ones', () => {
    expect(() => loadCatalog().get('debian10')).toThrow(/unknown flavor "debian10"; known: debian13, debian12/);
  });
});

describe('user flavors', () => {
  const mine = {
    id: 'debian13-lab',
    name: 'our trixie with a local mirror',
    os: 'debian',
    release: '13',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.3',
    builder: {
      kind: 'debootstrap',
      suite: 'trixie',
      mirror: 'http://mirror.lab.example/debian',
      basePackages: ['openssh-server'],
      kernelPackages: ['linux-image-amd64'],
      zfsPackages: ['zfs-dkms'],
    },
    lineages: { ztest: { packages: ['zfs-test'] } },
  };

  it('appends a valid user flavor, with defaults filled', () => {
    const catalog = loadCatalog([mine]);
    const flavor = catalog.get('debian13-lab');
    expect(flavor.builder.kind === 'debootstrap' && flavor.builder.components).toEqual(['main', 'contrib']);
    expect(flavor.lineages.lean.packages).toEqual([]);
    expect(catalog.flavors.at(-1)?.id).toBe('debian13-lab');
  });

  it('lets a user flavor replace a shipped one by id', () => {
    const catalog = loadCatalog([{ ...mine, id: 'debian13' }]);
    expect(catalog.get('debian13').name).toBe('our trixie with a local mirror');
    expect(catalog.flavors.filter((f) => f.id === 'debian13')).toHaveLength(1);
  });

  it('refuses a flavor defined twice', () => {
    expect(() => loadCatalog([mine, mine])).toThrow(UsageError);
  });

  it('names the flavor and the wrong key', () => {
    const bad = { ...mine, expectedZfsVersion: 'latest', builder: { ...mine.builder, suite: 'Trixie!' } };
    expect(() => loadCatalog([bad])).toThrow(/flavors\[0\] \(flavor "debian13-lab"\) is invalid: .*expectedZfsVersion.*builder\.suite/);
  });

  it('refuses unknown keys (a misspelt key is not silently ignored)', () => {
    expect(FlavorSchema.safeParse({ ...mine, kernelPackges: 'x' }).success).toBe(false);
  });

  it('refuses a cloud image without a checksum, and a bad image URL scheme', () => {
    const cloud = {
      ...mine,
      builder: { kind: 'cloud-image', imageUrl: 'file:///srv/img.qcow2', packageManager: 'apt', zfsPackages: ['zfs-dkms'] },
    };
    expect(FlavorSchema.safeParse(cloud).success).toBe(false);
    const withSum = { ...cloud, builder: { ...cloud.builder, checksum: { kind: 'sha256', value: 'a'.repeat(64) } } };
    expect(FlavorSchema.safeParse(withSum).success).toBe(true);
    expect(FlavorSchema.safeParse({ ...withSum, builder: { ...withSum.builder, imageUrl: 'ftp://x/y.img' } }).success).toBe(false);
  });

  it('exports the config key schema (flavors: defaults to none)', () => {
    expect(FlavorListSchema.parse(undefined)).toEqual([]);
    expect(SHIPPED_FLAVORS.length).toBe(11);
  });
});
