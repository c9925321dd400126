import { describe, expect, it } from 'vitest';
import { CLI_GRACE_SECONDS, decideWait, pollerIsLive, POLLER_STALE_SECONDS, WARN_SILENT_SECONDS } from '../../../core/wait.js';

const host = 'zfslab-host-lab1';
const coordinator = 'zfslab';

describe('decideWait', () => {
  it('keeps waiting while every queue it needs is served', () => {
    expect(
      decideWait({
        elapsedSeconds: 5000,
        hostWaitSeconds: 1800,
        queues: [
          { queue: host, silentSeconds: 0 },
          { queue: coordinator, silentSeconds: 3 },
        ],
      }),
    ).toEqual({ action: 'wait' });
    expect(decideWait({ elapsedSeconds: 5000, hostWaitSeconds: 1800, queues: [] })).toEqual({ action: 'wait' });
  });

  it('warns once a queue has been silent a minute (or a quarter of a short bound), naming the queue', () => {
    expect(decideWait({ elapsedSeconds: 100, hostWaitSeconds: 1800, queues: [{ queue: host, silentSeconds: WARN_SILENT_SECONDS - 1 }] }).action).toBe('wait');
    const warn = decideWait({ elapsedSeconds: 100, hostWaitSeconds: 1800, queues: [{ queue: host, silentSeconds: WARN_SILENT_SECONDS }] });
    expect(warn).toMatchObject({ action: 'warn', queue: host });
    expect(warn.action === 'warn' && warn.reason).toMatch(/no worker serves zfslab-host-lab1 \(silent 60 s\); .* about 1740 s/);
    expect(decideWait({ elapsedSeconds: 3, hostWaitSeconds: 8, queues: [{ queue: host, silentSeconds: 2 }] }).action).toBe('warn');
    expect(decideWait({ elapsedSeconds: 3, hostWaitSeconds: 8, queues: [{ queue: host, silentSeconds: 1 }] }).action).toBe('wait');
  });

  it('gives up after the host bound plus the grace the workflow needs to close the run, naming the silent queue', () => {
    const bound = 1800 + CLI_GRACE_SECONDS;
    expect(decideWait({ elapsedSeconds: bound, hostWaitSeconds: 1800, queues: [{ queue: host, silentSeconds: bound - 1 }] }).action).toBe('warn');
    const gave = decideWait({
      elapsedSeconds: bound,
      hostWaitSeconds: 1800,
      queues: [
        { queue: coordinator, silentSeconds: 10 },
        { queue: host, silentSeconds: bound },
      ],
    });
    expect(gave).toMatchObject({ action: 'give-up', queue: host });
    expect(gave.action === 'give-up' && gave.reason).toContain('no worker has served zfslab-host-lab1 for 1920 s');
  });

  it('a caller may shorten the grace', () => {
    expect(decideWait({ elapsedSeconds: 3, hostWaitSeconds: 2, graceSeconds: 1, queues: [{ queue: host, silentSeconds: 3 }] })).toMatchObject({
      action: 'give-up',
      queue: host,
    });
    expect(decideWait({ elapsedSeconds: 3, hostWaitSeconds: 2, graceSeconds: 1, queues: [{ queue: host, silentSeconds: 2.9 }] }).action).toBe('warn');
  });

  it('gives up at --timeout whatever the queues say', () => {
    const gave = decideWait({ elapsedSeconds: 30, timeoutSeconds: 30, hostWaitSeconds: 1800, queues: [{ queue: host, silentSeconds: 0 }] });
    expect(gave).toMatchObject({ action: 'give-up' });
    expect(gave.action === 'give-up' && gave.reason).toMatch(/--timeout/);
    expect(decideWait({ elapsedSeconds: 29, timeoutSeconds: 30, hostWaitSeconds: 1800, queues: [{ queue: host, silentSeconds: 0 }] }).action).toBe('wait');
  });
});

describe('pollerIsLive', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('a poller is live while its last poll is recent; a gone worker stays listed but goes stale', () => {
    expect(pollerIsLive(new Date(now - 10_000).toISOString(), now)).toBe(true);
    expect(pollerIsLive(new Date(now - POLLER_STALE_SECONDS * 1000).toISOString(), now)).toBe(true);
    expect(pollerIsLive(new Date(now - POLLER_STALE_SECONDS * 1000 - 1000).toISOString(), now)).toBe(false);
    expect(pollerIsLive(undefined, now)).toBe(true);
  });
});
