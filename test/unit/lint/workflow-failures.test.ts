import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The workflow-failure rule of eslint.config.js (no-restricted-syntax over workflows/), exercised
 * through ESLint's own API on source text placed inside workflows/: each way of failing a workflow
 * task instead of the workflow must be reported; an ApplicationFailure or a rethrow must not. The
 * same text outside workflows/ is not this rule's business.
 */
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

async function syntaxErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  if (!result) throw new Error(`ESLint returned no result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`the probe does not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const probe = 'workflows/failure-probe.ts';

describe('workflows/ fail the workflow, never its task', () => {
  it('refuses `throw new Error(…)`', async () => {
    const errors = await syntaxErrors(probe, "export async function wf(): Promise<void> {\n  throw new Error('no golden');\n}\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('a plain Error fails the workflow task');
  });

  it('refuses a TypeError built for later, and a thrown string or custom error class', async () => {
    expect(await syntaxErrors(probe, "export const e = new TypeError('x');\n")).toHaveLength(1);
    const thrown = await syntaxErrors(
      probe,
      "class Oops extends Object {}\nexport function a(): never {\n  throw 'bad input';\n}\nexport function b(): never {\n  throw new Oops();\n}\n",
    );
    expect(thrown).toHaveLength(2);
    expect(thrown.every((m) => m.includes('throw ApplicationFailures only'))).toBe(true);
  });

  it('refuses a bare zod .parse (and JSON.parse): a ZodError or SyntaxError fails the task', async () => {
    const errors = await syntaxErrors(
      probe,
      "import { z } from 'zod';\nconst S = z.object({ a: z.string() });\nexport function wf(raw: unknown, text: string) {\n  return [S.parse(raw), JSON.parse(text), S.parseAsync(raw)];\n}\n",
    );
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain('parseInput');
  });

  it('accepts ApplicationFailures, parseInput, safeParse and rethrows', async () => {
    const errors = await syntaxErrors(
      probe,
      [
        "import { ApplicationFailure } from '@temporalio/workflow';",
        "import { z } from 'zod';",
        "import { parseInput } from './failures.js';",
        'const S = z.object({ a: z.string() });',
        'export async function wf(raw: unknown, run: () => Promise<void>) {',
        '  const input = parseInput(S, raw);',
        "  if (!S.safeParse(raw).success) throw ApplicationFailure.nonRetryable('bad', 'InvalidInput');",
        "  if (input.a === '') throw new ApplicationFailure('empty', 'InvalidInput', true);",
        '  try {',
        '    await run();',
        '  } catch (err) {',
        '    throw err;',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
  });

  it('leaves code outside workflows/ alone', async () => {
    expect(await syntaxErrors('activities/host/failure-probe.ts', "export function f(): never {\n  throw new Error('fine in an activity');\n}\n")).toEqual([]);
  });

  it('the workflows as they are pass it', async () => {
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    const hits = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${r.filePath}:${m.line}: ${m.message}`));
    expect(hits).toEqual([]);
    expect(results.length).toBeGreaterThan(5);
  });
});
