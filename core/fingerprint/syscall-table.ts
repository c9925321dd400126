import { X86_64_SYSCALLS } from './syscall-table-x86_64.js';

/**
 * Syscall numbers → names. bpftrace's `tracepoint:raw_syscalls:sys_enter` gives only the number (the
 * per-syscall `syscalls:sys_enter_*` wildcard does not compile on every kernel: bpftrace 0.17 fails on
 * the landlock tracepoint's enum), so the names come from the kernel's own table, kept as data.
 */
export type SyscallArch = 'x86_64';

export function syscallName(arch: SyscallArch, nr: number): string {
  const table = arch === 'x86_64' ? X86_64_SYSCALLS : undefined;
  return table?.[nr] ?? `syscall_${nr}`;
}

/** Numbers of the syscalls that replace the process image (the capture starts counting at the workload's first one). */
export function execSyscallNumbers(arch: SyscallArch): number[] {
  const table = arch === 'x86_64' ? X86_64_SYSCALLS : {};
  return Object.entries(table)
    .filter(([, name]) => name === 'execve' || name === 'execveat')
    .map(([nr]) => Number(nr));
}

/** Parses `#define __NR_<name> <nr>` lines of an asm/unistd_64.h. */
export function parseUnistdHeader(text: string): Map<number, string> {
  const table = new Map<number, string>();
  for (const match of text.matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) {
    table.set(Number(match[2]), match[1] as string);
  }
  return table;
}

/** Parses `<nr> <abi> <name> [entry]` lines of a syscall_64.tbl, keeping the 64-bit ABIs (common, 64). */
export function parseSyscallTbl(text: string): Map<number, string> {
  const table = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || !/^\d+$/.test(fields[0] as string)) continue;
    if (fields[1] !== 'common' && fields[1] !== '64') continue;
    table.set(Number(fields[0]), fields[2] as string);
  }
  return table;
}
