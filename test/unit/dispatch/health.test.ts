import { describe, expect, it } from 'vitest';
import { HealthTransitionError, acceptsWork, applyHealthEvent, healthCheckDue, hostsToCheck, newHealthRecord } from '../../../core/host/health.js';
import type { HealthEvent, HostHealthRecord } from '../../../core/host/health.js';

function apply(record: HostHealthRecord, ...events: HealthEvent[]): HostHealthRecord {
  return events.reduce((r, e) => applyHealthEvent(r, e).record, record);
}

const t0 = '2026-12-03T00:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(t0) + hours * 3_600_000).toISOString();

describe('host health (LAVA model)', () => {
  it('a new host is unknown and checked before any work; pass makes it good, fail bad', () => {
    const fresh = newHealthRecord('lab', t0);
    expect([fresh.state, healthCheckDue(fresh, t0), acceptsWork(fresh, t0)]).toEqual(['unknown', true, false]);
    const passed = applyHealthEvent(fresh, { kind: 'health-check', at: at(1), passed: true, why: 'probe, clone boot and smoke test passed' });
    expect(passed.transition).toEqual({ from: 'unknown', to: 'good', at: at(1), by: 'system', why: 'probe, clone boot and smoke test passed' });
    expect(acceptsWork(passed.record, at(1))).toBe(true);
    const failed = applyHealthEvent(fresh, { kind: 'health-check', at: at(1), passed: false, why: 'clone did not reach SSH in 600 s' });
    expect([failed.record.state, acceptsWork(failed.record, at(1)), healthCheckDue(failed.record, at(1))]).toEqual(['bad', false, false]);
  });

  it('an infrastructure failure makes a good host unknown (who: system, why: the failure); a second one changes nothing', () => {
    const good = apply(newHealthRecord('lab', t0), { kind: 'health-check', at: t0, passed: true, why: 'ok' });
    const first = applyHealthEvent(good, { kind: 'infra-failure', at: at(2), why: 'heartbeat timeout of runZtsChunk' });
    expect(first.transition).toMatchObject({ from: 'good', to: 'unknown', by: 'system', why: 'heartbeat timeout of runZtsChunk' });
    expect(applyHealthEvent(first.record, { kind: 'infra-failure', at: at(3), why: 'again' }).transition).toBeUndefined();
    const returned = applyHealthEvent(good, { kind: 'returned', at: at(2), why: 'worker polls again after reboot' });
    expect(returned.record.state).toBe('unknown');
  });

  it("maintenance and retirement are the operator's, with who and why; maintenance ends through a check", () => {
    const good = apply(newHealthRecord('lab', t0), { kind: 'health-check', at: t0, passed: true, why: 'ok' });
    const maint = applyHealthEvent(good, { kind: 'maintenance', at: at(1), by: 'operator:alice', why: 'swap a disk' });
    expect(maint.transition).toEqual({ from: 'good', to: 'maintenance', at: at(1), by: 'operator:alice', why: 'swap a disk' });
    expect(acceptsWork(maint.record, at(1))).toBe(false);
    expect(healthCheckDue(maint.record, at(1))).toBe(false);
    expect(() => applyHealthEvent(maint.record, { kind: 'health-check', at: at(2), passed: true, why: 'x' })).toThrow(HealthTransitionError);
    expect(applyHealthEvent(maint.record, { kind: 'infra-failure', at: at(2), why: 'x' }).record.state).toBe('maintenance');
    const back = applyHealthEvent(maint.record, { kind: 'recheck', at: at(3), by: 'operator:alice', why: 'disk swapped' });
    expect([back.record.state, healthCheckDue(back.record, at(3))]).toEqual(['unknown', true]);
    const retired = apply(back.record, { kind: 'retire', at: at(4), by: 'operator:bob', why: 'decommissioned' });
    expect(retired.state).toBe('retired');
    expect(() => applyHealthEvent(retired, { kind: 'recheck', at: at(5), by: 'operator:bob', why: 'oops' })).toThrow(/retired: cannot apply recheck/);
  });

  it('a good host is checked again every N hours or N jobs, whichever comes first; a check resets both', () => {
    const cadence = { everyHours: 24, everyJobs: 3 };
    let record = apply(newHealthRecord('lab', t0), { kind: 'health-check', at: t0, passed: true, why: 'ok' });
    expect(healthCheckDue(record, at(23), cadence)).toBe(false);
    expect(healthCheckDue(record, at(24), cadence)).toBe(true);
    record = apply(record, { kind: 'job-done', at: at(1) }, { kind: 'job-done', at: at(2) });
    expect(acceptsWork(record, at(2), cadence)).toBe(true);
    record = apply(record, { kind: 'job-done', at: at(3) });
    expect(acceptsWork(record, at(3), cadence)).toBe(false);
    record = apply(record, { kind: 'health-check', at: at(4), passed: true, why: 'cadence' });
    expect([record.jobsSinceCheck, healthCheckDue(record, at(27), cadence), healthCheckDue(record, at(28), cadence)]).toEqual([0, false, true]);
  });

  it('a sweep checks the probed hosts that are due, booting the first golden the catalog knows', () => {
    const good = apply(newHealthRecord('a', t0), { kind: 'health-check', at: at(0), passed: true, why: 'ok' });
    const busy = apply(good, { kind: 'job-done', at: at(1) }, { kind: 'job-done', at: at(2) });
    const entries = [
      { hostId: 'stale', health: { ...good, hostId: 'stale' }, facts: { goldens: ['ubuntu24', 'debian13'] } },
      { hostId: 'busy', health: { ...busy, hostId: 'busy' }, facts: { goldens: [] } },
      { hostId: 'lost', health: apply(good, { kind: 'infra-failure', at: at(1), why: 'heartbeat stopped' }), facts: { goldens: ['debian12'] } },
      { hostId: 'never-probed', health: newHealthRecord('never-probed', t0) },
      { hostId: 'away', health: apply(good, { kind: 'maintenance', at: at(1), by: 'op', why: 'disk swap' }), facts: { goldens: [] } },
    ];
    expect(hostsToCheck(entries, at(30), { everyHours: 24, everyJobs: 2 }, ['debian12', 'debian13'])).toEqual([
      { hostId: 'stale', flavorId: 'debian13' },
      { hostId: 'busy' },
      { hostId: 'lost', flavorId: 'debian12' },
    ]);
    // Without a cadence only the unknown host is due.
    expect(hostsToCheck(entries, at(30), {}, []).map((c) => c.hostId)).toEqual(['lost']);
  });
});
