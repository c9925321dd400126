import { createGoldenActivities, type GoldenActivityDeps } from '../golden/index.js';
import { createVmActivities, type VmActivityDeps } from '../vm/index.js';
import { createZtsHostActivities, type ZtsHostActivityDeps } from '../zts/index.js';
import { probeHost, type ProbeOptions } from './probe.js';
import { nativeSmokeTest } from './smoke.js';

export interface HostActivityDeps {
  hostId: string;
  imageDir: string;
  /** Declared in the probe report for the host registry: `host.maxVms`, `host.tags`, the golden cache. */
  registry?: { vmSlots: number; tags: readonly string[]; goldenCacheDir: string };
  /** ZTS runs on this host (resolve a selection, run chunks). */
  zts: Omit<ZtsHostActivityDeps, 'hostId'>;
  /** Golden builds in this host's golden cache. */
  golden: GoldenActivityDeps;
  /** Clone → boot → work → destroy in VMs of this host. */
  vm: VmActivityDeps;
}

/** The activities a lab host runs on its own task queue. Workflows import only this type. */
export function createHostActivities(deps: HostActivityDeps) {
  return {
    nativeSmokeTest: () => nativeSmokeTest({ hostId: deps.hostId, imageDir: deps.imageDir }),
    probeHost: (options: ProbeOptions) => probeHost({ hostId: deps.hostId, imageDir: deps.imageDir, ...deps.registry }, options),
    ...createZtsHostActivities({ hostId: deps.hostId, ...deps.zts }),
    ...createGoldenActivities(deps.golden),
    ...createVmActivities(deps.vm),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
