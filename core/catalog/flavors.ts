import type { FlavorInput } from './schema.js';

/**
 * The shipped catalog, as data (validated by FlavorSchema in loadCatalog, like user flavors).
 *
 * Naming: `debian13` is the debootstrap build (it needs nothing beyond the Debian mirror), so the
 * Debian 13 cloud image is `debian13-cloud`.
 *
 * Package sets: the commands zfs-tests.sh and the ZTS scripts call that `--no-install-recommends`
 * would otherwise leave out (found by building a debian13 golden by hand and running the suite),
 * and curl for zfs_load-key.
 */

const debianBase = ['systemd-sysv', 'udev', 'kmod', 'iproute2', 'openssh-server', 'sudo', 'procps', 'less', 'ca-certificates'];

/** Everything zfs-tests.sh and our recipes/probes call that the zfs packages do not pull in. */
const debianZtestPayload = [
  'zfs-test',
  'zfs-zed',
  'ksh',
  'fio',
  'bpftrace',
  'curl',
  'acl',
  'attr',
  'bc',
  'lsscsi',
  'mdadm',
  'parted',
  'python3',
  'python3-pyzfs',
  'sysstat',
  'jq',
  'openssl',
  'pamtester',
  'pax',
  'rsync',
  'xxhash',
  'xfsprogs',
  'cryptsetup-bin',
  'zstd',
  'dmsetup',
  'util-linux-extra',
  'e2fsprogs',
  'gdisk',
  'nfs-kernel-server',
  'samba-common-bin',
];
const debianLeanPayload = ['zfs-zed', 'fio'];

/** Bullseye has no util-linux-extra yet: its tools are still in util-linux, which the base has. */
const bullseyeZtestPayload = debianZtestPayload.filter((p) => p !== 'util-linux-extra');

const rpmZtestPayload = ['zfs-test', 'ksh', 'fio', 'bpftrace', 'sudo', 'curl', 'jq', 'python3', 'rsync', 'lsscsi', 'mdadm', 'parted', 'sysstat'];

export const SHIPPED_FLAVORS: readonly FlavorInput[] = [
  {
    id: 'debian13',
    name: 'Debian 13 (trixie), debootstrap',
    os: 'debian',
    release: '13',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.3',
    builder: {
      kind: 'debootstrap',
      suite: 'trixie',
      components: ['main', 'contrib'],
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'debian12',
    name: 'Debian 12 (bookworm), debootstrap',
    os: 'debian',
    release: '12',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.1',
    builder: {
      kind: 'debootstrap',
      suite: 'bookworm',
      components: ['main', 'contrib'],
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'debian12-bpo',
    name: 'Debian 12 (bookworm) with kernel and OpenZFS from bookworm-backports, debootstrap',
    os: 'debian',
    release: '12',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.3',
    builder: {
      kind: 'debootstrap',
      suite: 'bookworm',
      components: ['main', 'contrib'],
      backports: 'bookworm-backports',
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'debian13-bpo',
    name: 'Debian 13 (trixie) with OpenZFS from trixie-backports on the trixie kernel, debootstrap',
    os: 'debian',
    release: '13',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.4',
    builder: {
      kind: 'debootstrap',
      suite: 'trixie',
      components: ['main', 'contrib'],
      backports: 'trixie-backports',
      kernelFrom: 'suite',
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'debian11',
    name: 'Debian 11 (bullseye), debootstrap',
    os: 'debian',
    release: '11',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.0',
    builder: {
      kind: 'debootstrap',
      suite: 'bullseye',
      components: ['main', 'contrib'],
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: bullseyeZtestPayload } },
  },
  {
    id: 'debian-sid',
    name: 'Debian unstable (sid): the newest kernel Debian ships, debootstrap',
    os: 'debian',
    release: 'sid',
    kernelPackage: 'linux-image-amd64',
    expectedZfsVersion: '2.4',
    builder: {
      kind: 'debootstrap',
      suite: 'sid',
      components: ['main', 'contrib'],
      basePackages: debianBase,
      kernelPackages: ['linux-image-amd64', 'linux-headers-amd64', 'dkms'],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'debian13-cloud',
    name: 'Debian 13 (trixie) generic cloud image',
    os: 'debian',
    release: '13',
    kernelPackage: 'linux-image-cloud-amd64',
    expectedZfsVersion: '2.3',
    builder: {
      kind: 'cloud-image',
      imageUrl: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
      checksum: { kind: 'sums-url', url: 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS', algorithm: 'sha512' },
      packageManager: 'apt',
      // The cloud kernel lacks nothing zfs needs, but DKMS needs its headers and contrib enabled.
      zfsRepoCommands: [
        "sed -i 's/^Components: main$/Components: main contrib/' /etc/apt/sources.list.d/debian.sources",
        'apt-get update',
        'DEBIAN_FRONTEND=noninteractive apt-get install -y linux-headers-cloud-amd64 dkms',
      ],
      zfsPackages: ['zfs-dkms', 'zfsutils-linux'],
    },
    lineages: { lean: { packages: debianLeanPayload }, ztest: { packages: debianZtestPayload } },
  },
  {
    id: 'ubuntu24',
    name: 'Ubuntu 24.04 LTS (noble) cloud image',
    os: 'ubuntu',
    release: '24.04',
    kernelPackage: 'linux-image-generic',
    expectedZfsVersion: '2.2',
    builder: {
      kind: 'cloud-image',
      imageUrl: 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img',
      checksum: { kind: 'sums-url', url: 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS', algorithm: 'sha256' },
      packageManager: 'apt',
      // Ubuntu's kernel ships the zfs module prebuilt; only userland is installed.
      zfsRepoCommands: ['apt-get update'],
      zfsPackages: ['zfsutils-linux'],
    },
    lineages: {
      lean: { packages: ['fio'] },
      // Ubuntu packages no zfs-test; the ztest lineage of ubuntu24 needs --zfs-source.
      ztest: { packages: ['ksh', 'fio', 'bpftrace', 'curl', 'jq', 'acl', 'attr', 'bc', 'lsscsi', 'mdadm', 'parted', 'sysstat', 'python3'] },
    },
    notes: 'Ubuntu ships no zfs-test package: build the ztest golden with --zfs-source to get zfs-tests.sh.',
  },
  {
    id: 'centos9',
    name: 'CentOS Stream 9 generic cloud image',
    os: 'centos-stream',
    release: '9',
    kernelPackage: 'kernel',
    expectedZfsVersion: '2.2',
    builder: {
      kind: 'cloud-image',
      imageUrl: 'https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2',
      checksum: {
        kind: 'sums-url',
        url: 'https://cloud.centos.org/centos/9-stream/x86_64/images/CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2.SHA256SUM',
        algorithm: 'sha256',
      },
      packageManager: 'dnf',
      zfsRepoCommands: [
        'dnf install -y epel-release',
        'dnf install -y https://zfsonlinux.org/epel/zfs-release-2-3$(rpm --eval "%{dist}").noarch.rpm',
        'dnf install -y kernel-devel',
      ],
      zfsPackages: ['zfs'],
    },
    lineages: { lean: { packages: ['fio'] }, ztest: { packages: rpmZtestPayload } },
  },
  {
    id: 'rocky9',
    name: 'Rocky Linux 9 generic cloud image',
    os: 'rocky',
    release: '9',
    kernelPackage: 'kernel',
    expectedZfsVersion: '2.2',
    builder: {
      kind: 'cloud-image',
      imageUrl: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2',
      checksum: {
        kind: 'sums-url',
        url: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2.CHECKSUM',
        algorithm: 'sha256',
      },
      packageManager: 'dnf',
      zfsRepoCommands: [
        'dnf install -y epel-release',
        'dnf install -y https://zfsonlinux.org/epel/zfs-release-2-3$(rpm --eval "%{dist}").noarch.rpm',
        'dnf install -y kernel-devel',
      ],
      zfsPackages: ['zfs'],
    },
    lineages: { lean: { packages: ['fio'] }, ztest: { packages: rpmZtestPayload } },
  },
  {
    id: 'fedora44',
    name: 'Fedora 44 Cloud Base generic image',
    os: 'fedora',
    release: '44',
    kernelPackage: 'kernel',
    expectedZfsVersion: '2.4',
    builder: {
      kind: 'cloud-image',
      imageUrl: 'https://download.fedoraproject.org/pub/fedora/linux/releases/44/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2',
      checksum: {
        kind: 'sums-url',
        url: 'https://download.fedoraproject.org/pub/fedora/linux/releases/44/Cloud/x86_64/images/Fedora-Cloud-44-1.7-x86_64-CHECKSUM',
        algorithm: 'sha256',
      },
      packageManager: 'dnf',
      zfsRepoCommands: [
        'dnf install -y https://zfsonlinux.org/fedora/zfs-release-2-8$(rpm --eval "%{dist}").noarch.rpm',
        'dnf install -y kernel-devel-$(uname -r)',
      ],
      zfsPackages: ['zfs'],
    },
    lineages: { lean: { packages: ['fio'] }, ztest: { packages: rpmZtestPayload } },
    notes: 'The image URL names a point release; update it (and the CHECKSUM file) when Fedora respins.',
  },
];
