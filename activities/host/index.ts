import { createZtsHostActivities, type ZtsHostActivityDeps } from '../zts/index.js';
import { probeHost, type ProbeOptions } from './probe.js';

export interface HostActivityDeps {
  hostId: string;
  imageDir: string;
  /** ZTS runs on this host (resolve a selection, run chunks). */
  zts: Omit<ZtsHostActivityDeps, 'hostId'>;
}

/** The activities a lab host runs on its own task queue. Workflows import only this type. */
export function createHostActivities(deps: HostActivityDeps) {
  return {
    probeHost: (options: ProbeOptions) => probeHost({ hostId: deps.hostId, imageDir: deps.imageDir }, options),
    ...createZtsHostActivities({ hostId: deps.hostId, ...deps.zts }),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
