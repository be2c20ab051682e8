import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'holdfast/postgres': fileURLToPath(new URL('./src/postgres.ts', import.meta.url)),
      'holdfast/testing': fileURLToPath(new URL('./src/testing.ts', import.meta.url)),
      holdfast: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
