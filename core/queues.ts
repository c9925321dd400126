/** Task-queue names, shared by workflows (placement), workers (polling) and the CLI (status). */
export const COORDINATOR_QUEUE_DEFAULT = 'zfslab';

/** Each lab host polls its own queue; host-bound activities are scheduled there. */
export function hostTaskQueue(hostId: string): string {
  return `zfslab-host-${hostId}`;
}

export function hostIdFromQueue(queue: string): string | undefined {
  return queue.startsWith('zfslab-host-') ? queue.slice('zfslab-host-'.length) : undefined;
}
