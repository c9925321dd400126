import type { Client } from '@temporalio/client';
import type { Logger } from '../../lib/log.js';

/**
 * Whether a run is still open, asked of Temporal: a clone is labelled with its run id, and its run is
 * open while a running workflow's id contains that id. When Temporal cannot be asked, the run counts
 * as open: the orphan sweeper never destroys on a guess.
 */
export function runLivenessOf(client: Client, log: Logger): (runId: string) => Promise<boolean> {
  return async (runId) => {
    try {
      for await (const execution of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
        if (execution.workflowId.includes(runId)) return true;
      }
      return false;
    } catch (err) {
      log.warn({ err, runId }, 'cannot tell whether a run is open; keeping its clone');
      return true;
    }
  };
}
