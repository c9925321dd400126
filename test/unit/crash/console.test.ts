import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFirstCrash, normaliseHeadline, parseFrame, stripConsolePrefix, unresponsiveCrash } from '../../../core/crash/console.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/crash/debian13');
const boot = (n: number): string => readFileSync(join(FIXTURES, `boot${n}-serial.log`), 'utf8');
/** Each boot's console from the sysrq crash on: the panic without the hung task reported before it. */
const panicOf = (console: string): string => console.slice(console.indexOf('sysrq: Trigger a crash'));

describe('findFirstCrash on real debian13 consoles (two boots, different KASLR offsets)', () => {
  it('finds the hung task first, with its blocked writer frames', () => {
    const crash = findFirstCrash(boot(1))!;
    expect(crash.kind).toBe('hung-task');
    expect(crash.headline).toMatch(/^INFO: task sh:\d+ blocked for more than 5 seconds\.$/);
    expect(crash.frames).toContain('mnt_want_write');
    expect(crash.frames).not.toContain('__schedule');
    expect(crash.excerpt).toContain('Call Trace:');
    expect(crash.excerpt.trimEnd().endsWith('</TASK>')).toBe(true);
  });

  it('gives the same crash on two boots the same signature', () => {
    const [one, two] = [findFirstCrash(boot(1))!, findFirstCrash(boot(2))!];
    expect(one.kind).toBe(two.kind);
    expect(one.signature).toBe(two.signature);
    const [p1, p2] = [findFirstCrash(panicOf(boot(1)))!, findFirstCrash(panicOf(boot(2)))!];
    expect(p1.kind).toBe('panic');
    expect(p1.headline).toBe('Kernel panic - not syncing: sysrq triggered crash');
    expect(p1.signature).toBe(p2.signature);
    // The boots really differ where a naive hash would notice: KASLR offset and timestamps.
    const offset = (text: string) => /Kernel Offset: (0x[0-9a-f]+)/.exec(text)?.[1];
    expect(offset(boot(1))).not.toBe(offset(boot(2)));
  });

  it('gives a different crash another signature', () => {
    const hung = findFirstCrash(boot(1))!;
    const panic = findFirstCrash(panicOf(boot(1)))!;
    expect(panic.signature).not.toBe(hung.signature);
    expect(panic.frames.slice(0, 3)).toEqual(['sysrq_handle_crash', '__handle_sysrq', 'write_sysrq_trigger']);
    // The report through its trailer; this serial log ends there (qemu -no-reboot exits at the panic).
    expect(panic.excerpt.trimEnd().split('\n').at(-1)).toMatch(/Kernel Offset: 0x[0-9a-f]+ from /);
  });

  it('finds nothing in a console that only booted', () => {
    const bootOnly = boot(1).slice(0, boot(1).indexOf('INFO: task'));
    expect(bootOnly.length).toBeGreaterThan(1000);
    expect(findFirstCrash(bootOnly)).toBeUndefined();
  });
});

describe('console normalisation', () => {
  it('strips timestamps, levels, caller ids and journal prefixes', () => {
    expect(stripConsolePrefix('[  156.837645] Kernel panic - not syncing: x\r')).toBe('Kernel panic - not syncing: x');
    expect(stripConsolePrefix('<4>[   12.5] [  T683] Oops: 0000 [#1]')).toBe('Oops: 0000 [#1]');
    expect(stripConsolePrefix('Dec 03 20:01:02 vm kernel: BUG: soft lockup - CPU#0 stuck for 22s! [z_wr_iss:123]')).toBe(
      'BUG: soft lockup - CPU#0 stuck for 22s! [z_wr_iss:123]',
    );
  });

  it('reads frames without offsets, compiler clone suffixes, and marks guesses', () => {
    expect(parseFrame(' __handle_sysrq.cold+0x9f/0xe6')).toEqual({ name: '__handle_sysrq', guessed: false });
    expect(parseFrame(' ? arch_exit_to_user_mode_prepare.isra.0+0x16/0xa0')).toEqual({ name: 'arch_exit_to_user_mode_prepare', guessed: true });
    expect(parseFrame(' zio_wait+0x123/0x2a0 [zfs]')).toEqual({ name: 'zio_wait [zfs]', guessed: false });
    expect(parseFrame('RIP: 0033:0x7fef3e6603a7')).toBeUndefined();
  });

  it('takes boot-specific numbers out of a headline', () => {
    expect(normaliseHeadline('BUG: soft lockup - CPU#1 stuck for 22s! [z_wr_iss:123]')).toBe(
      normaliseHeadline('BUG: soft lockup - CPU#0 stuck for 48s! [z_wr_iss:981]'),
    );
    expect(normaliseHeadline('Kernel panic - not syncing: VFS: Unable to mount root fs')).not.toBe(
      normaliseHeadline('Kernel panic - not syncing: Out of memory'),
    );
  });

  it('tells the kinds apart by headline', () => {
    const kinds = [
      ['[ 1.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [txg_sync:400]', 'soft-lockup'],
      ['[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000008', 'bug'],
      ['[ 1.0] Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP NOPTI', 'oops'],
      ['[ 1.0] VERIFY3(zio->io_error == 0) failed (5 == 0)', 'bug'],
      ['[ 1.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:', 'rcu-stall'],
    ] as const;
    for (const [line, kind] of kinds) expect(findFirstCrash(`[ 0.5] Linux version 6.12\n${line}\n`)?.kind, line).toBe(kind);
  });
});

describe('unresponsiveCrash: a guest that went silent', () => {
  it('keeps the console tail and one signature for every silent wedge, apart from any reported crash', () => {
    const tail = Array.from({ length: 100 }, (_, i) => `[ ${i}.0] line ${i}`).join('\n');
    const silent = unresponsiveCrash(tail);
    expect(silent.kind).toBe('unresponsive');
    expect(silent.excerpt.split('\n')).toHaveLength(60);
    expect(silent.excerpt).toContain('line 99');
    expect(silent.excerpt).not.toContain('line 39\n');
    expect(unresponsiveCrash('').signature).toBe(silent.signature);
    expect(silent.signature).not.toBe(findFirstCrash(panicOf(boot(1)))!.signature);
  });
});
