import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../../lib/paths.js';
import { describe, expect, it } from 'vitest';
import {
  allowListPolicy,
  noShellPolicy,
  PolicyError,
  policyYaml,
  tracingPolicyIssues,
  workloadRootBinaries,
  type TracingPolicy,
} from '../../../core/fingerprint/tetragon-policy.js';
import { fixture } from './fixtures.js';
import { validateStructural, type StructuralSchema } from './openapi-structural.js';
import { replayCapture } from './replay.js';

const SCRIPT = '/work/main/test/fixtures/fingerprint/capture/workload.sh';
const baseline = replayCapture(fixture('capture', 'raw-capture.jsonl'), 'workload.sh');
const crd = parseYaml(fixture('tetragon', 'cilium.io_tracingpolicies.yaml')) as {
  spec: { versions: { name: string; schema: { openAPIV3Schema: StructuralSchema } }[] };
};
const crdSchema = crd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema;

function roundTrip(policy: TracingPolicy): unknown {
  return parseYaml(policyYaml(policy));
}

describe('generated TracingPolicies', () => {
  it('the no-shell policy follows the workload binary and kills shells it never ran (matchBinaries + followChildren, no podSelector)', () => {
    expect(workloadRootBinaries(baseline)).toEqual([SCRIPT]);
    const policy = noShellPolicy(baseline);
    const kprobe = policy.spec.kprobes![0]!;
    expect(kprobe).toMatchObject({ call: 'sys_execve', syscall: true, args: [{ index: 0, type: 'string' }] });
    const selector = kprobe.selectors![0]!;
    expect(selector.matchBinaries).toEqual([{ operator: 'In', values: [SCRIPT], followChildren: true }]);
    expect(selector.matchActions).toEqual([{ action: 'Sigkill' }]);
    expect(selector.matchArgs![0]).toMatchObject({ index: 0, operator: 'Equal' });
    expect(selector.matchArgs![0]!.values).toEqual(expect.arrayContaining(['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/bash']));
    expect(policy.spec).not.toHaveProperty('podSelector');
    expect(policy.metadata.name).toBe('zfslab-workload-sh-no-shell');
  });

  it('does not forbid a shell the baseline runs', () => {
    const withKsh = structuredClone(baseline);
    withKsh.binaries_spawned.push({ path: '/usr/bin/ksh', count: 40, parents: [SCRIPT] });
    const values = noShellPolicy(withKsh).spec.kprobes![0]!.selectors![0]!.matchArgs![0]!.values;
    expect(values).not.toContain('/usr/bin/ksh');
    expect(values).not.toContain('/bin/ksh');
    expect(values).toContain('/bin/sh');
  });

  it('the allow-list policy kills any exec outside the binaries seen', () => {
    const selector = allowListPolicy(baseline).spec.kprobes![0]!.selectors![0]!;
    expect(selector.matchArgs).toEqual([
      {
        index: 0,
        operator: 'NotEqual',
        values: [
          '/bin/cat',
          '/bin/mkdir',
          '/bin/mv',
          '/bin/python3',
          '/bin/rm',
          '/bin/true',
          '/usr/bin/cat',
          '/usr/bin/mkdir',
          '/usr/bin/mv',
          '/usr/bin/python3',
          '/usr/bin/rm',
          '/usr/bin/true',
          SCRIPT,
        ],
      },
    ]);
  });

  it('both pass the TracingPolicy facts and the upstream CRD schema after a YAML round trip', () => {
    for (const policy of [noShellPolicy(baseline), allowListPolicy(baseline)]) {
      const yaml = roundTrip(policy);
      expect(tracingPolicyIssues(yaml)).toEqual([]);
      expect(validateStructural(yaml, crdSchema)).toEqual([]);
    }
  });

  it('refuses to scope a policy to a generic interpreter', () => {
    const sh = structuredClone(baseline);
    sh.binaries_spawned = sh.binaries_spawned.map((b) => (b.path === SCRIPT ? { ...b, path: '/bin/sh' } : b));
    expect(() => noShellPolicy(sh)).toThrow(PolicyError);
    expect(() => noShellPolicy(sh)).toThrow(/generic interpreter/);
    expect(noShellPolicy(sh, { workloadBinaries: ['/usr/share/zfs/zfs-tests.sh'] }).spec.kprobes![0]!.selectors![0]!.matchBinaries![0]!.values).toEqual([
      '/usr/share/zfs/zfs-tests.sh',
    ]);
  });
});

describe('shipped example policies (policies/fingerprint)', () => {
  const dir = join(projectRoot, 'policies', 'fingerprint');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('exist and are valid', () => {
    expect(files.sort()).toEqual(['zfslab-zts-sanity-allow-binaries.yaml', 'zfslab-zts-sanity-no-shell.yaml']);
    for (const file of files) {
      const policy = parseYaml(readFileSync(join(dir, file), 'utf8')) as unknown;
      expect(tracingPolicyIssues(policy)).toEqual([]);
      expect(validateStructural(policy, crdSchema)).toEqual([]);
    }
  });
});

describe('TracingPolicy facts a schema cannot express', () => {
  // A policy written the way TracingPolicies are often written wrongly: every mistake below is one.
  const naivePolicy = {
    apiVersion: 'cilium.io/v1alpha1',
    kind: 'TracingPolicy',
    metadata: { name: 'zfs-test-no-shell' },
    spec: {
      podSelector: { matchLabels: { app: 'zfs-test' } },
      kprobes: [
        {
          call: '__x64_sys_execve',
          selectors: [
            {
              matchPIDs: [{ operator: 'NotIn', values: [0] }],
              matchArgs: [{ index: 0, operator: 'Postfix', values: ['/bin/sh'] }],
              matchActions: [{ action: 'Sigkill' }],
            },
          ],
        },
        { call: 'zio_done' },
      ],
    },
  };

  it('catches each mistake of a naive policy', () => {
    expect(tracingPolicyIssues(naivePolicy)).toEqual([
      'spec.podSelector: only exists under Kubernetes; a VM lab has no pods to select',
      'spec.kprobes[0].call: __x64_sys_execve: leave out the arch prefix, Tetragon adds it',
      'spec.kprobes[0].selectors[0].matchPIDs: NotIn [0] matches every process (no user process has PID 0)',
      "spec.kprobes[0].selectors[0].matchArgs: index 0 is not among the kprobe's args",
      'spec.kprobes[1].ignore.callNotFound: zio_done exists only with the ZFS module loaded (and may be inlined); set it to true',
    ]);
  });

  it('wants syscall: true on sys_ calls and a scope for Sigkill on execve', () => {
    const issues = tracingPolicyIssues({
      apiVersion: 'cilium.io/v1alpha1',
      kind: 'TracingPolicy',
      metadata: { name: 'x' },
      spec: {
        kprobes: [
          {
            call: 'sys_execve',
            args: [{ index: 0, type: 'string' }],
            selectors: [{ matchArgs: [{ index: 0, operator: 'Equal', values: ['/bin/sh'] }], matchActions: [{ action: 'Sigkill' }] }],
          },
        ],
      },
    });
    expect(issues).toEqual([
      'spec.kprobes[0].syscall: sys_execve is a syscall; set syscall: true explicitly',
      expect.stringContaining('without matchBinaries In + followChildren: true'),
    ]);
  });

  it('rejects unknown fields and bad enums', () => {
    expect(tracingPolicyIssues({ apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'Bad_Name' }, spec: {} })).toEqual([
      'metadata.name: a DNS-1123 subdomain (lowercase a-z 0-9 - .)',
    ]);
    const bad = tracingPolicyIssues({
      apiVersion: 'cilium.io/v1alpha1',
      kind: 'TracingPolicy',
      metadata: { name: 'x' },
      spec: { kprobes: [{ call: 'sys_execve', syscall: true, selectors: [{ matchActions: [{ action: 'Kill' }] }] }] },
    });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^spec\.kprobes\.0\.selectors\.0\.matchActions\.0\.action:/);
  });

  it('the upstream CRD rejects what it should (the validator is not a no-op)', () => {
    expect(
      validateStructural(
        { apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'x' }, spec: { kprobes: [{ call: 'x', selectorz: [] }] } },
        crdSchema,
      ),
    ).toEqual(['.spec.kprobes[0].selectorz: unknown field']);
    expect(validateStructural({ metadata: {}, spec: { kprobes: [{ call: 'x', selectors: [{ matchActions: [{ action: 'Kill' }] }] }] } }, crdSchema)[0]).toMatch(
      /not in/,
    );
  });
});
