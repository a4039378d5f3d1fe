// Lint: ESLint with typescript-eslint's strict type-aware rule set. A proxy lives on
// promises and callbacks, and only rules that see types catch a promise nobody awaits
// (no-floating-promises) or an async function handed to an emitter that drops what it
// returns (no-misused-promises). Layout is Prettier's job (.prettierrc.json): no rule
// here is about formatting. `npm run lint` runs it; `npm test` runs that first.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Fields assigned once stay readonly, so an object's shape is settled in its constructor.
      '@typescript-eslint/prefer-readonly': 'error',
      // Numbers and booleans read fine in messages; objects and nullish values still do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // node:test's test()/describe() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] },
          ],
        },
      ],
      // A leading underscore marks a parameter an interface requires but this implementation ignores
      // (tsc's noUnusedParameters honours the same convention).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Off: `return this.answer(...)` as the early exit of a void method and `await sleep()` in a for
      // loop's update are idioms here; the rule is about taste, not correctness.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Off: it trusts narrowing across calls and awaits that mutate state (session.ts re-reads #stalled
      // after #guarded(), topology-refresher.ts #stopped after an await, `running` flags cleared by
      // callbacks, `env` assigned in before()); "fixing" what it reports would delete real guards.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // A switch over a policy enum or union must name every case, or say `default` on purpose:
      // a new Route or LocalAnswer must not fall through to forwarding unnoticed.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
