import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Every top-level folder of ours that code can import from. */
const LAYERS = ['activities', 'apps', 'bench', 'bin', 'core', 'dashboards', 'infra', 'lib', 'test', 'workers', 'workflows'];

function everyLayerBut(...allowed) {
  return LAYERS.filter((layer) => !allowed.includes(layer));
}

/** A `no-restricted-imports` pattern for relative imports that land in one of `layers`. */
function layerPattern(layers, message) {
  return { regex: `^(\\.\\./)+(${layers.join('|')})(/|$)`, message };
}

/** JavaScript's own error classes: in workflow code each one fails the task, not the workflow. */
const BUILTIN_ERRORS = 'Error|TypeError|RangeError|SyntaxError|EvalError|ReferenceError|URIError|AggregateError';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.zfslab/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Library code logs through pino; people-facing output goes through apps/cli/output.
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layers, checked: which top-level folders each layer may import from (see README, Layout).
  // A relative import that climbs out of the file's own layer is matched by the folder it lands in.
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [layerPattern(everyLayerBut('core'), 'core/ is the pure domain: it imports nothing of ours outside core/')] },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerPattern(
              everyLayerBut('core', 'workflows', 'activities'),
              'workflows/ is deterministic Temporal code: it imports core/ and activity types only',
            ),
            {
              ...layerPattern(
                ['activities'],
                'workflows/ may import activity types only (`import type`); activities run on workers, not in the workflow sandbox',
              ),
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  // Workflow code fails the workflow only through an ApplicationFailure (workflows/failures.ts): any
  // other throw fails the workflow *task*, which Temporal retries forever, so the run hangs.
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `NewExpression[callee.name=/^(${BUILTIN_ERRORS})$/]`,
          message: 'workflows/ throw ApplicationFailures only (workflows/failures.ts): a plain Error fails the workflow task, which is retried forever',
        },
        {
          selector: `ThrowStatement > :not(CallExpression, Identifier, MemberExpression, AwaitExpression, NewExpression[callee.name=/^(ApplicationFailure|${BUILTIN_ERRORS})$/])`,
          message: 'workflows/ throw ApplicationFailures only (workflows/failures.ts), or rethrow what they caught',
        },
        {
          selector: 'CallExpression[callee.type="MemberExpression"][callee.property.name=/^(parse|parseAsync)$/]',
          message: 'workflows/ validate through parseInput (workflows/failures.ts): a bare .parse throws a ZodError, which fails the workflow task forever',
        },
      ],
    },
  },
  {
    files: ['dashboards/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [layerPattern(everyLayerBut('core', 'dashboards'), 'dashboards/ are data built from code: they import core/ and the Grafana SDK only')] },
      ],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerPattern(['activities', 'workflows', 'apps', 'workers'], 'lib/ holds shared I/O helpers: it imports no activities, workflows, apps or workers'),
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerPattern(['apps', 'workers', 'infra'], 'activities/ do not import the CLI, the worker entry points or how the services start (infra/)'),
          ],
        },
      ],
    },
  },
  {
    files: ['bench/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
