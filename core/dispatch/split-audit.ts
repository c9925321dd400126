/**
 * What `--split-groups` may do to a group, from reading upstream's scripts (openzfs/zfs
 * tests/zfs-tests/tests/functional/<group>/ and tests/runfiles/*.run at zfs-2.2.0, zfs-2.3.9 and master
 * be7657e). A part of a split group runs the group's setup, a contiguous run of its tests, then its
 * cleanup, possibly in another clone than the other parts: that is unsafe exactly when a test relies on
 * state an earlier test of the group left behind, or when setup cannot run twice.
 *
 * Audited: the groups that exceed the fair share (total / slots) at 16 and 32 slots on common.run +
 * linux.run of those tags with the March 2023 durations, i.e. the ones `--split-groups` really splits
 * there. Each of their tests builds its own pool (or its own nested/file pool) and destroys it on exit,
 * or uses only what the group's setup builds and restores it; none reads another test's leftovers. So
 * no group is known to be unsafe to split; groups not audited here are split as well when they exceed
 * the fair share, and an entry with `unsafe: true` keeps one whole.
 */
export interface SplitAudit {
  /** Runfile section. */
  section: string;
  unsafe: boolean;
  why: string;
}

export const SPLIT_AUDIT: readonly SplitAudit[] = [
  {
    section: 'tests/functional/redundancy',
    unsafe: false,
    why: 'setup only checks the zone; every test calls setup_test_env for a pool of its own and cleans it up',
  },
  {
    section: 'tests/functional/rsend',
    unsafe: false,
    why: 'setup builds the send model on $POOL ($POOL2, $POOL3 empty) that every part rebuilds; tests receive into $POOL2/$POOL3 and cleanup_pool them (and $BACKDIR) on exit',
  },
  {
    section: 'tests/functional/pool_checkpoint',
    unsafe: false,
    why: 'setup premakes a fragmented nested pool and saves it under $SAVEDPOOLDIR for the group; tests start from that copy or setup_test_pool and clean up; each part pays the premake again (its setup is the costly script)',
  },
  { section: 'tests/functional/slog', unsafe: false, why: 'setup and cleanup do nothing but check the zone; every test creates and destroys its own pool' },
  {
    section: 'tests/functional/mmp:Linux',
    unsafe: false,
    why: 'setup sets multihost tunables (and skips if /etc/hostid exists), cleanup resets them; every test makes its own pool and clears the hostid on exit',
  },
  {
    section: 'tests/functional/cli_root/zpool_import',
    unsafe: false,
    why: 'setup creates $TESTPOOL and the device files; each test builds its pools from them and restores them on exit',
  },
  { section: 'tests/functional/cli_root/zpool_create', unsafe: false, why: 'every test creates and destroys its own pools' },
  { section: 'tests/functional/removal', unsafe: false, why: 'no setup; every test creates its pool (default_setup_noexit) and destroys it' },
  {
    section: 'tests/functional/cli_root/zdb',
    unsafe: false,
    why: 'no setup or cleanup; each test creates its pool ("uses expected result from previous test" in zdb_object_range_pos means a step of the same script)',
  },
  { section: 'tests/functional/raidz', unsafe: false, why: 'raidz_test sweeps in userland, no pool shared between tests' },
];

/** Sections `--split-groups` keeps whole. */
export function neverSplitSections(): string[] {
  return SPLIT_AUDIT.filter((a) => a.unsafe).map((a) => a.section);
}
