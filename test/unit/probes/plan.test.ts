import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePreflight, parseProbesFlag, planProbes } from '../../../core/probes/plan.js';
import { zioCommand, zioProgram } from '../../../core/probes/scripts.js';
import { projectRoot } from '../../../lib/paths.js';

const preflight = parsePreflight(readFileSync(join(projectRoot, 'test/fixtures/probes/preflight-debian13.txt'), 'utf8'));

describe('what the probes can attach to', () => {
  it('reads the preflight of a real guest', () => {
    expect(preflight).toMatchObject({ arch: 'x86_64', kernel: '6.12.117+deb13-amd64', bpftrace: 'v0.23.2', arcstats: true, tracefs: true });
    expect(preflight.symbols.get('zio_done')).toEqual({ kallsyms: true, traceable: true });
    expect(preflight.symbols.get('zio_ioctl')).toEqual({ kallsyms: false, traceable: false });
  });

  it('on 2.3.9: every constructor but zio_ioctl (gone in 2.3), scrub told apart by priority', () => {
    const plan = planProbes(['zio', 'kstat'], preflight);
    expect(plan.kstat).toBe(true);
    expect(plan.zio?.constructors.map((c) => c.symbol)).toEqual(['zio_read', 'zio_write', 'zio_rewrite', 'zio_free_sync', 'zio_claim', 'zio_trim']);
    expect(plan.zio?.scrubByPriority).toBe(true);
    expect(plan.notCaptured).toEqual([{ probe: 'zio:ioctl:zio_ioctl', reason: 'zio_ioctl is not in /proc/kallsyms' }]);
    const program = zioProgram(plan.zio!);
    expect(program).toContain('kretprobe:zio_write /retval/');
    expect(program).toContain('*(uint32 *)(reg("sp") + 16)');
    expect(program).not.toContain('zio_ioctl');
    expect(zioCommand(program)).toMatch(/bpftrace -B line -f json \/var\/tmp\/zfslab-zio\.bt$/);
  });

  it('says why a probe cannot run, never pretends', () => {
    const noBpftrace = { ...preflight, bpftrace: undefined } as typeof preflight;
    delete (noBpftrace as { bpftrace?: string }).bpftrace;
    expect(planProbes(['zio'], noBpftrace)).toEqual({ kstat: false, notCaptured: [{ probe: 'zio', reason: 'bpftrace is not installed on the target' }] });
    const inlined = { ...preflight, symbols: new Map([...preflight.symbols, ['zio_done', { kallsyms: true, traceable: false }]]) };
    expect(planProbes(['zio'], inlined).notCaptured[0]?.reason).toMatch(/zio_done is not traceable/);
    expect(planProbes(['kstat'], { ...preflight, arcstats: false }).notCaptured).toEqual([
      { probe: 'kstat', reason: 'no /proc/spl/kstat/zfs/arcstats (the zfs module is not loaded)' },
    ]);
    const arm = planProbes(['zio'], { ...preflight, arch: 'aarch64' });
    expect(arm.zio?.scrubByPriority).toBe(false);
    expect(arm.notCaptured.map((n) => n.probe)).toContain('zio:scrub');
    expect(zioProgram(arm.zio!)).not.toContain('reg("sp")');
  });

  it('--probes: all, none, or a list; a typo is named', () => {
    expect(parseProbesFlag('all')).toEqual(['zio', 'kstat']);
    expect(parseProbesFlag('none')).toEqual([]);
    expect(parseProbesFlag('kstat')).toEqual(['kstat']);
    expect(parseProbesFlag('kstat, zio,kstat')).toEqual(['kstat', 'zio']);
    expect(() => parseProbesFlag('zio,arc')).toThrow(/unknown probe kind "arc"/);
  });
});
