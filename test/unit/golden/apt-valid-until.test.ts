import { describe, expect, it } from 'vitest';
import { aptUpdate } from '../../../activities/golden/debootstrap-steps.js';
import type { StepContext } from '../../../activities/golden/step-context.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { CommandFailed, UsageError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log.js';

// apt-get update's own words, from a debian-sid golden build against this machine's mirror (2026-12-04).
const EXPIRED =
  'E: Release file for http://deb.debian.org/debian/dists/sid/InRelease is expired (invalid since 27d 17h 18min 26s). Updates for this repository will not be applied.';

function context(aptCheckValidUntil: boolean): StepContext {
  return {
    flavor: loadCatalog().get('debian-sid'),
    mirror: 'http://deb.debian.org/debian',
    aptCheckValidUntil,
    log: createLogger('test', 'silent'),
    runOptions: {},
  } as unknown as StepContext;
}

const failing = async (): Promise<never> => {
  throw new CommandFailed('chroot … apt-get update', 100, '', EXPIRED);
};

describe('apt-get update in a golden build', () => {
  it('names the mirror, the suite and the config key when the mirror serves expired Release files', async () => {
    const err = await aptUpdate(context(true), failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/http:\/\/deb\.debian\.org\/debian serves expired Release files for sid/);
    expect((err as Error).message).toMatch(/host\.aptCheckValidUntil: false/);
  });

  it('passes any other failure on as it is', async () => {
    const other = async (): Promise<never> => {
      throw new CommandFailed('chroot … apt-get update', 100, '', 'E: Could not resolve deb.debian.org');
    };
    await expect(aptUpdate(context(true), other)).rejects.toBeInstanceOf(CommandFailed);
    await expect(aptUpdate(context(false), failing)).rejects.toBeInstanceOf(CommandFailed);
  });
});
