import { Client, Connection } from '@temporalio/client';
import type { Config } from './config.js';

/** A client for the configured namespace; the caller closes it with `closeClient`. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5_000 });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export async function closeClient(client: Client): Promise<void> {
  await client.connection.close();
}

/** Where the Temporal UI shows a workflow (embedded dev server). */
export function temporalUiUrl(config: Config, workflowId?: string): string {
  const host = config.temporal.address.split(':')[0] ?? '127.0.0.1';
  const base = `http://${host}:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows`;
  return workflowId ? `${base}/${encodeURIComponent(workflowId)}` : base;
}

/** The Temporal UI page of one schedule: its cadence, recent and upcoming firings. */
export function temporalScheduleUrl(config: Config, scheduleId: string): string {
  return temporalUiUrl(config).replace(/\/workflows$/, `/schedules/${encodeURIComponent(scheduleId)}`);
}
