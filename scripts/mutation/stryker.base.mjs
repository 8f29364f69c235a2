// Shared StrykerJS settings; each package's stryker.config.mjs names what it mutates.
// Everything Stryker writes (sandboxes, reports, the incremental file) goes under the
// package's .cache/ (ignored by git).
import path from 'node:path';

const jestConfigFile = path.join(import.meta.dirname, 'jest.config.cjs');

/**
 * @param {{ mutate: string[], tests?: string[] }} options `tests`: the only test files
 *   to run (globs, default every test of the package), for packages whose other tests
 *   start backends or need a cluster.
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function strykerConfig({ mutate, tests }) {
  return {
    mutate,
    testRunner: 'jest',
    jest: {
      projectType: 'custom',
      configFile: jestConfigFile,
      enableFindRelatedTests: true,
      ...(tests && { config: { testMatch: tests.map(glob => `**/${glob}`) } }),
    },
    coverageAnalysis: 'perTest',
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.stryker.json',
    // Two shared cores: one test runner and one checker leave room for everything else.
    concurrency: 1,
    tempDirName: '.cache/stryker-tmp',
    ignorePatterns: ['.cache', 'dist', 'dist-types'],
    incrementalFile: '.cache/mutation/incremental.json',
    reporters: ['progress-append-only', 'clear-text', 'json', 'html'],
    clearTextReporter: {
      allowColor: false,
      logTests: false,
      reportScoreTable: true,
    },
    jsonReporter: { fileName: '.cache/mutation/mutation.json' },
    htmlReporter: { fileName: '.cache/mutation/mutation.html' },
    thresholds: { high: 90, low: 80, break: null },
    timeoutMS: 10000,
  };
}
