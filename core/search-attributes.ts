import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The search attributes every zfslab workflow sets, so that the Temporal UI can filter run
 * history by flavor, suite, host, OpenZFS version and outcome. The embedded dev server registers
 * them at start; a fleet server gets them from `zfslab up --register-only` (infra/temporal-server.ts).
 */
export const SEARCH_ATTRIBUTES = {
  flavor: defineSearchAttributeKey('ZfslabFlavor', SearchAttributeType.KEYWORD),
  suite: defineSearchAttributeKey('ZfslabSuite', SearchAttributeType.KEYWORD),
  host: defineSearchAttributeKey('ZfslabHost', SearchAttributeType.KEYWORD),
  openzfsVersion: defineSearchAttributeKey('ZfslabOpenzfsVersion', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('ZfslabOutcome', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('ZfslabKind', SearchAttributeType.KEYWORD),
  /** The run id a workflow belongs to (the campaign: matrix, its targets, a scheduled firing). */
  run: defineSearchAttributeKey('ZfslabRun', SearchAttributeType.KEYWORD),
  /** The zfslab schedule that started the run, when one did. */
  schedule: defineSearchAttributeKey('ZfslabSchedule', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_NAMES: readonly string[] = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);
