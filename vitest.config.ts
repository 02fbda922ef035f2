import { defineConfig } from 'vitest/config';
import MeasurementFirst from './test/helpers/sequencer.ts';

// Integration tests start real servers (MariaDB, Redis, Prometheus) on a 2-core machine: run files one at a
// time so their timings are not distorted by each other, and give server start-up room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    sequence: { sequencer: MeasurementFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
