import { z } from 'zod';

/**
 * The ZTS a golden holds, read from the booted image (not from a package fetched on the planning host):
 * a Debian point release, a `--zfs-source` tree or a cloud image's packages decide which tests exist
 * and what their runfiles say, so the plan is cut from the golden's own runfiles and the run records
 * the golden it ran on.
 */

/** Where a ztest golden's guest has the suite (Debian's zfs-test package layout, also `make install`'s). */
export const GUEST_SUITE = {
  runnerPath: '/usr/share/zfs/test-runner/bin/test-runner.py',
  testDir: '/usr/share/zfs/zfs-tests',
  runfilesDir: '/usr/share/zfs/runfiles',
} as const;

/** The runfiles a selection is cut from (core/runfile/select.ts). */
export const SUITE_RUNFILES = ['sanity', 'common', 'linux'] as const;
export type SuiteRunfile = (typeof SUITE_RUNFILES)[number];

export const GoldenSuiteSchema = z.strictObject({
  /** The loaded module's version (`zfs-kmod-2.3.9-1` → `2.3.9`): the baseline and the timeouts follow it. */
  openzfsVersion: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/),
  runnerPath: z.string().startsWith('/'),
  testDir: z.string().startsWith('/'),
  /** sha256 of each runfile as the guest has it; the copies beside the golden are checked against it. */
  runfiles: z.strictObject({
    sanity: z.string().regex(/^[0-9a-f]{64}$/),
    common: z.string().regex(/^[0-9a-f]{64}$/),
    linux: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  /** Tests in common.run and linux.run together (what `--suite linux` can reach). */
  tests: z.number().int().nonnegative(),
  readAt: z.iso.datetime({ offset: true }),
  /** `build`: the golden's verify step; `clone`: a clone of a golden built before suites were recorded. */
  readFrom: z.enum(['build', 'clone']),
});
export type GoldenSuite = z.infer<typeof GoldenSuiteSchema>;
