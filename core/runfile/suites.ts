import { z } from 'zod';

/**
 * Our suites, mapped to what upstream really has: there is no quick.run and no linux-fault.run
 * (fault tests live inside the normal runfiles). `quick` is sanity.run (~600 short tests, upstream's own quick CI), `linux` is the
 * full default run common.run + linux.run, and `fault` is every group of common.run + linux.run that
 * carries one of FAULT_TAGS.
 */
export const SuiteSchema = z.enum(['quick', 'linux', 'fault']);
export type Suite = z.infer<typeof SuiteSchema>;

/**
 * Tags of groups that break devices or pools on purpose and check how OpenZFS copes, read from the
 * `tags` of upstream's common.run/linux.run (2.1.11 … 2.4.4):
 * - fault (auto-online/offline/replace/spare after zinject'ed device faults), events (zed events on
 *   injected errors), zinject (the injector's own CLI tests; tagged from 2.3), deadman (hung I/O), failmode
 *   (pool behaviour on I/O failure; tagged in 2.4), replacement (resilver/rebuild after device replacement)
 *   — the groups a "linux-fault" suite would mean;
 * - zpool_events, zpool_reopen, zpool_clear, zpool_offline, zpool_online, zpool_resilver,
 *   online_offline (device state changes under I/O), redundancy (pools losing devices up to their
 *   redundancy), clean_mirror and scrub_mirror (one side of a mirror overwritten, then read/scrubbed).
 * A tag missing from an older version simply selects nothing there.
 */
export const FAULT_TAGS: readonly string[] = [
  'fault',
  'events',
  'zinject',
  'deadman',
  'failmode',
  'replacement',
  'zpool_events',
  'zpool_reopen',
  'zpool_clear',
  'zpool_offline',
  'zpool_online',
  'zpool_resilver',
  'online_offline',
  'redundancy',
  'clean_mirror',
  'scrub_mirror',
];
