// ESLint with typescript-eslint's type-aware rules; formatting is Prettier's (eslint-config-prettier
// turns off the rules that would disagree with it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-fleet/', '.bench/', 'node_modules/', '**/__generated__/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promises: none forgotten, none passed where a callback's result is ignored.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Interfaces here (caches, rate limiters, Yoga hooks) return promises whether or not one
      // implementation awaits: `async` keeps a synchronous throw a rejection, which is what callers handle.
      '@typescript-eslint/require-await': 'off',
      // Yoga and envelop hand callbacks as payload properties (`endResponse`, `setResult`, …) that are
      // meant to be called detached; the rule cannot tell those from methods that need `this`.
      '@typescript-eslint/unbound-method': 'off',
      // A caught `unknown` passed on as it came (retries, coalesced waiters) is not wrapped.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Tests read JSON bodies as `any` and check their shape with assertions at run time.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
