import { stringify } from 'yaml';
import { z } from 'zod';
import { SHELL_BINARIES } from './detect.js';
import type { Fingerprint } from './schema.js';

/**
 * Tetragon TracingPolicies generated from a baseline fingerprint: the first trigger, killing what the
 * workload never did. `podSelector` exists only at spec level and only under Kubernetes, so a VM lab
 * must not set it; `matchBinaries` matches the *calling* process, so the workload's own binary is
 * matched with `followChildren: true` and the exec'd path (argument 0) is compared; `syscall: true` is
 * set and no `__x64_` prefix given (Tetragon adds it).
 *
 * The schema below is the subset of the TracingPolicy CRD (cilium.io/v1alpha1) these generators use,
 * with the CRD's enums; `tracingPolicyIssues` adds the facts above, which a schema cannot express.
 */
const ARG_TYPES = [
  'auto',
  'int',
  'sint8',
  'int8',
  'uint8',
  'sint16',
  'int16',
  'uint16',
  'uint32',
  'sint32',
  'int32',
  'ulong',
  'uint64',
  'size_t',
  'long',
  'sint64',
  'int64',
  'char_buf',
  'char_iovec',
  'skb',
  'sock',
  'sockaddr',
  'socket',
  'sockaddr_un',
  'string',
  'fd',
  'file',
  'filename',
  'path',
  'nop',
  'bpf_attr',
  'perf_event',
  'bpf_map',
  'user_namespace',
  'capability',
  'kiocb',
  'iov_iter',
  'cred',
  'const_buf',
  'load_info',
  'module',
  'syscall64',
  'kernel_cap_t',
  'cap_inheritable',
  'cap_permitted',
  'cap_effective',
  'linux_binprm',
  'data_loc',
  'net_device',
  'bpf_cmd',
  'dentry',
  'bpf_prog',
] as const;
const ARG_OPERATORS = [
  'Equal',
  'NotEqual',
  'Prefix',
  'NotPrefix',
  'Postfix',
  'NotPostfix',
  'GreaterThan',
  'LessThan',
  'GT',
  'LT',
  'Mask',
  'SPort',
  'NotSPort',
  'SPortPriv',
  'NotSportPriv',
  'DPort',
  'NotDPort',
  'DPortPriv',
  'NotDPortPriv',
  'SAddr',
  'NotSAddr',
  'DAddr',
  'NotDAddr',
  'Protocol',
  'Family',
  'State',
  'InMap',
  'NotInMap',
  'CapabilitiesGained',
  'InRange',
  'NotInRange',
  'SubString',
  'SubStringIgnCase',
  'CelExpr',
  'FileType',
  'NotFileType',
] as const;
const ACTIONS = [
  'Post',
  'Sigkill',
  'Override',
  'GetUrl',
  'DnsLookup',
  'NoPost',
  'Signal',
  'TrackSock',
  'UntrackSock',
  'NotifyEnforcer',
  'CleanupEnforcerNotification',
  'Set',
] as const;

const MatchBinariesSchema = z.strictObject({
  operator: z.enum(['In', 'NotIn', 'Prefix', 'NotPrefix', 'Postfix', 'NotPostfix']),
  values: z.array(z.string().min(1)).min(1),
  followChildren: z.boolean().optional(),
});
const MatchArgsSchema = z.strictObject({
  index: z.number().int().min(0),
  operator: z.enum(ARG_OPERATORS),
  values: z.array(z.string()).min(1),
});
const MatchActionsSchema = z.strictObject({
  action: z.enum(ACTIONS),
  argSig: z.number().int().optional(),
  argError: z.number().int().optional(),
});
const MatchPIDsSchema = z.strictObject({
  operator: z.enum(['In', 'NotIn']),
  followForks: z.boolean().optional(),
  isNamespacePID: z.boolean().optional(),
  values: z.array(z.number().int()).min(1),
});
const SelectorSchema = z.strictObject({
  matchPIDs: z.array(MatchPIDsSchema).optional(),
  matchBinaries: z.array(MatchBinariesSchema).optional(),
  matchArgs: z.array(MatchArgsSchema).optional(),
  matchActions: z.array(MatchActionsSchema).optional(),
});
const KprobeSchema = z.strictObject({
  call: z.string().min(1),
  syscall: z.boolean().optional(),
  return: z.boolean().optional(),
  args: z.array(z.strictObject({ index: z.number().int().min(0), type: z.enum(ARG_TYPES), label: z.string().optional() })).optional(),
  selectors: z.array(SelectorSchema).optional(),
  ignore: z.strictObject({ callNotFound: z.boolean() }).optional(),
  message: z.string().max(256).optional(),
  tags: z.array(z.string()).optional(),
});
const dns1123 = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS-1123 subdomain (lowercase a-z 0-9 - .)');

export const TracingPolicySchema = z.strictObject({
  apiVersion: z.literal('cilium.io/v1alpha1'),
  kind: z.literal('TracingPolicy'),
  metadata: z.strictObject({
    name: dns1123,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    kprobes: z.array(KprobeSchema).optional(),
    // Listed so that tracingPolicyIssues can name it; a VM lab has no pods.
    podSelector: z.unknown().optional(),
  }),
});
export type TracingPolicy = z.infer<typeof TracingPolicySchema>;

/** ZFS/SPL kernel functions, which exist only when the module is loaded (and some are inlined away). */
const ZFS_FUNCTION = /^(zio|zfs|zfsdev|zil|zvol|spa|dsl|dmu|dbuf|arc|l2arc|txg|vdev|metaslab|spl|taskq|zap|zpl)_/;

/** Schema issues plus the facts a schema cannot express; empty means the policy is valid for a VM lab. */
export function tracingPolicyIssues(value: unknown): string[] {
  const parsed = TracingPolicySchema.safeParse(value);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const policy = parsed.data;
  const issues: string[] = [];
  if (policy.spec.podSelector !== undefined) issues.push('spec.podSelector: only exists under Kubernetes; a VM lab has no pods to select');
  (policy.spec.kprobes ?? []).forEach((kprobe, k) => {
    const at = `spec.kprobes[${k}]`;
    if (/^__(x64|arm64|ia32)_/.test(kprobe.call)) issues.push(`${at}.call: ${kprobe.call}: leave out the arch prefix, Tetragon adds it`);
    const isSyscall = /^sys_/.test(kprobe.call);
    if (isSyscall && kprobe.syscall !== true) issues.push(`${at}.syscall: ${kprobe.call} is a syscall; set syscall: true explicitly`);
    if (ZFS_FUNCTION.test(kprobe.call) && kprobe.ignore?.callNotFound !== true)
      issues.push(`${at}.ignore.callNotFound: ${kprobe.call} exists only with the ZFS module loaded (and may be inlined); set it to true`);
    const declared = new Set((kprobe.args ?? []).map((a) => a.index));
    (kprobe.selectors ?? []).forEach((selector, s) => {
      const sat = `${at}.selectors[${s}]`;
      for (const pids of selector.matchPIDs ?? []) {
        if (pids.operator === 'NotIn' && pids.values.every((v) => v === 0))
          issues.push(`${sat}.matchPIDs: NotIn [0] matches every process (no user process has PID 0)`);
      }
      for (const arg of selector.matchArgs ?? []) {
        if (!declared.has(arg.index)) issues.push(`${sat}.matchArgs: index ${arg.index} is not among the kprobe's args`);
      }
      const kills = (selector.matchActions ?? []).some((a) => a.action === 'Sigkill');
      const scoped = (selector.matchBinaries ?? []).some((b) => b.operator === 'In' && b.followChildren === true) || (selector.matchPIDs ?? []).length > 0;
      if (kills && /^sys_execve/.test(kprobe.call) && !scoped)
        issues.push(
          `${sat}: Sigkill on execve without matchBinaries In + followChildren: true would kill matching execs of every process on the host (matchBinaries matches the calling process)`,
        );
    });
  });
  return issues;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

/** Interpreters and launchers: matching one of them would scope a policy to half the system. */
const GENERIC_BINARIES = new Set([
  ...SHELL_BINARIES,
  'python',
  'python3',
  'perl',
  'ruby',
  'node',
  'env',
  'sudo',
  'su',
  'timeout',
  'nohup',
  'setsid',
  'xargs',
  'nice',
  'ionice',
  'stdbuf',
]);

export interface PolicyOptions {
  /** Binaries whose process trees the policy applies to; default the workload's root binaries in the baseline. */
  workloadBinaries?: readonly string[];
  /** metadata.name; default derived from the workload. */
  name?: string;
}

/** The binaries the workload was started as (those exec'd with no parent inside the capture). */
export function workloadRootBinaries(baseline: Fingerprint): string[] {
  return baseline.binaries_spawned.filter((b) => b.parents.length === 0).map((b) => b.path);
}

function scopeBinaries(baseline: Fingerprint, options: PolicyOptions): string[] {
  if (baseline.capture.sections.binaries_spawned.status !== 'captured') {
    throw new PolicyError('the baseline has no binaries_spawned section: it cannot scope or list binaries');
  }
  const roots = options.workloadBinaries ? [...options.workloadBinaries] : workloadRootBinaries(baseline);
  if (roots.length === 0) throw new PolicyError('the baseline names no root binary for the workload; pass the workload binary explicitly');
  for (const root of roots) {
    const base = root.slice(root.lastIndexOf('/') + 1).replace(/[\d.]+$/, '');
    if (GENERIC_BINARIES.has(base) || GENERIC_BINARIES.has(root.slice(root.lastIndexOf('/') + 1))) {
      throw new PolicyError(
        `the workload runs as ${root}, a generic interpreter: a policy following it would apply to every ${base} on the host. ` +
          'Run the workload as its own executable (e.g. the script path) or pass the workload binary explicitly',
      );
    }
    if (!root.startsWith('/')) throw new PolicyError(`workload binary ${root} is not an absolute path`);
  }
  return roots;
}

/** /bin and /sbin are symlinks into /usr on merged-/usr systems; an exec may name either. */
function pathVariants(path: string): string[] {
  const match = /^(\/usr)?\/(s?bin)\/(.+)$/.exec(path);
  if (!match) return [path];
  return [`/${match[2]}/${match[3]}`, `/usr/${match[2]}/${match[3]}`];
}

function policyName(baseline: Fingerprint, suffix: string, options: PolicyOptions): string {
  if (options.name) return options.name;
  const slug =
    baseline.workload
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 200 - suffix.length) || 'workload';
  return `zfslab-${slug}-${suffix}`.replace(/-+/g, '-');
}

function execKprobe(operator: 'Equal' | 'NotEqual', paths: readonly string[], roots: readonly string[], message: string): TracingPolicy['spec']['kprobes'] {
  return [
    {
      call: 'sys_execve',
      syscall: true,
      args: [{ index: 0, type: 'string' }],
      message,
      selectors: [
        {
          matchBinaries: [{ operator: 'In', values: [...roots], followChildren: true }],
          matchArgs: [{ index: 0, operator, values: [...paths] }],
          matchActions: [{ action: 'Sigkill' }],
        },
      ],
    },
  ];
}

/**
 * Kills any shell exec'd inside the workload's process tree, except shells the baseline shows it runs
 * (ZTS runs ksh and sh all the time; a web stack runs none).
 */
export function noShellPolicy(baseline: Fingerprint, options: PolicyOptions = {}): TracingPolicy {
  const roots = scopeBinaries(baseline, options);
  const used = new Set(baseline.binaries_spawned.flatMap((b) => pathVariants(b.path)));
  const shells = [...SHELL_BINARIES]
    .sort()
    .flatMap((name) => [`/bin/${name}`, `/usr/bin/${name}`])
    .filter((path) => !used.has(path));
  if (shells.length === 0) throw new PolicyError('the baseline spawns every known shell; there is no shell left to forbid');
  const policy: TracingPolicy = {
    apiVersion: 'cilium.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: {
      name: policyName(baseline, 'no-shell', options),
      annotations: { 'zfslab.io/generated-from': `${baseline.workload} captured ${baseline.captured_at}` },
    },
    spec: { kprobes: execKprobe('Equal', shells, roots, "zfslab: a shell this workload's fingerprint never ran") },
  };
  assertValid(policy);
  return policy;
}

/** Kills any exec inside the workload's tree of a binary the baseline never saw it run. */
export function allowListPolicy(baseline: Fingerprint, options: PolicyOptions = {}): TracingPolicy {
  const roots = scopeBinaries(baseline, options);
  const allowed = [...new Set(baseline.binaries_spawned.flatMap((b) => pathVariants(b.path)))].sort();
  const policy: TracingPolicy = {
    apiVersion: 'cilium.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: {
      name: policyName(baseline, 'allow-binaries', options),
      annotations: { 'zfslab.io/generated-from': `${baseline.workload} captured ${baseline.captured_at}` },
    },
    spec: { kprobes: execKprobe('NotEqual', allowed, roots, 'zfslab: binary outside the workload fingerprint') },
  };
  assertValid(policy);
  return policy;
}

function assertValid(policy: TracingPolicy): void {
  const issues = tracingPolicyIssues(policy);
  if (issues.length > 0) throw new PolicyError(`generated policy is invalid: ${issues.join('; ')}`);
}

export function policyYaml(policy: TracingPolicy): string {
  return stringify(policy, { lineWidth: 0 });
}
