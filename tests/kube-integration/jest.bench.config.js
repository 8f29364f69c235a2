/*
 * The local cluster's benchmarks (src/*.bench.ts): scripts/bench-platform.sh starts the
 * cluster, sets KUBECONFIG and runs them with this config.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/src/**/*.bench.ts'],
  testTimeout: 900000,
};
