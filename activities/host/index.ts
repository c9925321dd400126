import { probeHost, type ProbeOptions } from './probe.js';

export interface HostActivityDeps {
  hostId: string;
  imageDir: string;
}

/** The activities a lab host runs on its own task queue. Workflows import only this type. */
export function createHostActivities(deps: HostActivityDeps) {
  return {
    probeHost: (options: ProbeOptions) => probeHost({ hostId: deps.hostId, imageDir: deps.imageDir }, options),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
