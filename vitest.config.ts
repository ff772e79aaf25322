import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    alias: [
      // graphql 16 ships CJS and ESM builds with no exports map: Vite would pick the ESM
      // one for our code while Yoga and Pothos load the CJS one, and `instanceof
      // GraphQLError` would fail across the two copies. Resolve it as Node does.
      { find: /^graphql$/, replacement: require.resolve('graphql') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Every integration test starts its own servers on ephemeral ports; files run in parallel.
    pool: 'forks',
  },
});
