import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog, Flavor } from '../../core/catalog/index.js';
import type { GoldenSuite } from '../../core/vm/golden-suite.js';
import type { FlavorMeta } from '../../core/matrix/matrix.js';
import { parseRunfile } from '../../core/runfile/parse.js';
import { renderRunfile } from '../../core/runfile/render.js';
import { listTests, selectRunfile } from '../../core/runfile/select.js';
import type { RunfileCatalog } from '../../core/runfile/select.js';
import { storeFlavorId } from '../../core/test-run/ids.js';
import { NATIVE_TARGET } from '../../core/test-run/input.js';
import type { RunRequest } from '../../core/test-run/input.js';
import type { ResolvedTarget } from '../../core/test-run/types.js';
import { UsageError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { kvmDeviceUsable } from '../vm/accel-probe.js';
import { nativeFlavorMeta } from './host-facts.js';
import { flavorSuite, nativeSuite } from './suite-location.js';
import type { SuiteLocation } from './suite-location.js';

export interface ResolveTargetInput {
  target: string;
  hostId: string;
  request: RunRequest;
}

/** A flavor's suite as its golden on this host holds it. */
export interface GoldenSuiteLocation {
  /** The golden's name (`debian13-ztest-d7e26597236798bc`): what the run records it ran on. */
  golden: string;
  suite: GoldenSuite;
  /** This host's copy of the golden's runfiles. */
  runfilesDir: string;
}

/** Where a host's goldens' suites come from (the VM layer: activities/vm/vm-target-provider.ts). */
export interface GoldenSuites {
  /** Undefined when this host has no golden of the flavor's current recipe. */
  goldenSuite(flavor: Flavor, signal: AbortSignal): Promise<GoldenSuiteLocation | undefined>;
}

export interface ResolveDeps {
  toolsDir: string;
  catalog: Catalog;
  log: Logger;
  /** This host's goldens; without them a flavor is planned from its Debian zfs-test package. */
  goldens?: GoldenSuites;
  signal?: AbortSignal;
  /** Tests only: a root other than `/` for the installed suite. */
  installedRoot?: string;
}

/**
 * Resolves what a target will run, on the host that runs it, against the target's OWN installed
 * runfiles (its OpenZFS version decides which tests and groups exist). A custom runfile is taken as
 * given (parsed, so a broken one fails here and not on the host halfway). Names that fit nothing are a
 * UsageError naming the nearest matches.
 */
export async function resolveTarget(input: ResolveTargetInput, deps: ResolveDeps): Promise<ResolvedTarget> {
  const flavorId = storeFlavorId(input.target, input.hostId);
  const { suite, flavor, golden } = await suiteOf(input.target, flavorId, deps);
  let runfileText: string;
  let runfileSource: string;
  let testDir = suite.testDir;
  if (input.request.kind === 'runfile') {
    const doc = parseRunfile(input.request.runfileText, input.request.name);
    runfileText = renderRunfile(doc);
    runfileSource = `${input.request.name} (runner from ${suite.source})`;
    testDir = input.request.testDir ?? suite.testDir;
  } else {
    const catalog = await readCatalog(suite.runfilesDir);
    runfileText = renderRunfile(selectRunfile(catalog, input.request.selection));
    runfileSource = suite.source;
  }
  const selectedTests = listTests(parseRunfile(runfileText)).length;
  if (selectedTests === 0) throw new UsageError(`the selection holds no test (${runfileSource})`);
  deps.log.info({ target: input.target, flavorId, selectedTests, source: runfileSource }, 'target resolved');
  // A clone runs under KVM where this host can, else under TCG (activities/vm/accel-probe.ts); the native host is real hardware.
  const speedClass = input.target === NATIVE_TARGET || kvmDeviceUsable() ? 'kvm' : 'tcg';
  return {
    target: input.target,
    flavorId,
    hostId: input.hostId,
    flavor,
    runfileText,
    testDir,
    runfileSource,
    selectedTests,
    speedClass,
    runfileGenerated: input.request.kind !== 'runfile',
    ...(golden ? { golden } : {}),
  };
}

async function suiteOf(target: string, flavorId: string, deps: ResolveDeps): Promise<{ suite: SuiteLocation; flavor: FlavorMeta; golden?: string }> {
  if (target === NATIVE_TARGET) {
    const suite = await nativeSuite({ toolsDir: deps.toolsDir, log: deps.log, installedRoot: deps.installedRoot });
    return { suite, flavor: nativeFlavorMeta(flavorId, suite.openzfsVersion) };
  }
  const flavor = deps.catalog.get(target);
  // What runs is what the golden holds: its own runfiles and module version, whatever built it. With no
  // golden here yet (a dry run, or the run will say to build one): the package the golden would install.
  const fromGolden = await deps.goldens?.goldenSuite(flavor, deps.signal ?? new AbortController().signal);
  const suite = fromGolden ? goldenSuiteLocation(fromGolden) : await flavorSuite(flavor, { toolsDir: deps.toolsDir, log: deps.log });
  // The kernel is known once a clone has booted; until then the flavor's kernel package stands in.
  return {
    suite,
    ...(fromGolden ? { golden: fromGolden.golden } : {}),
    flavor: { id: flavorId, os: flavor.os, release: flavor.release, kernel: flavor.kernelPackage, openzfsVersion: suite.openzfsVersion },
  };
}

function goldenSuiteLocation({ golden, suite, runfilesDir }: GoldenSuiteLocation): SuiteLocation {
  return {
    runnerPath: suite.runnerPath,
    testDir: suite.testDir,
    runfilesDir,
    openzfsVersion: suite.openzfsVersion,
    source: `golden ${golden} (OpenZFS ${suite.openzfsVersion}; runfiles read from the image at its ${suite.readFrom === 'build' ? 'build' : 'first clone'})`,
  };
}

async function readCatalog(dir: string): Promise<RunfileCatalog> {
  const read = async (name: string) => parseRunfile(await readFile(join(dir, `${name}.run`), 'utf8'), `${name}.run`);
  return { sanity: await read('sanity'), common: await read('common'), linux: await read('linux') };
}
