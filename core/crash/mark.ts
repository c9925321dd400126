import { z } from 'zod';

/**
 * The kinds of report that mean the guest kernel died or wedged (core/crash/console.ts finds them),
 * and `unresponsive`: the guest stopped answering (SSH) while its console showed no report at all.
 */
export const CrashKindSchema = z.enum(['panic', 'oops', 'bug', 'soft-lockup', 'hard-lockup', 'hung-task', 'rcu-stall', 'unresponsive']);
export type CrashKind = z.infer<typeof CrashKindSchema>;

/**
 * What a CRASH result carries: the kind, the signature (the same crash on two boots or flavors shares
 * it) and the artifact key of the console excerpt. Kept free of node modules: workflows import it.
 */
export const CrashMarkSchema = z.object({
  kind: CrashKindSchema,
  signature: z.string().regex(/^[0-9a-f]{16}$/),
  headline: z.string().min(1).optional(),
  consoleKey: z.string().min(1).optional(),
});
export type CrashMark = z.infer<typeof CrashMarkSchema>;
