// StrykerJS settings for scripts/mutation.sh, which runs Stryker in each package's
// directory with this file: what each package mutates is listed below. Everything
// Stryker writes (sandboxes, reports, the incremental file) goes under the package's
// .cache/ (ignored by git).
import path from 'node:path';

/**
 * What to mutate per package directory. `tests`: the only test files to run, for
 * packages whose other tests start backends or need a cluster (default: every test).
 */
const PACKAGES = {
  'rollouts-common': {
    mutate: [
      'src/**/*.ts',
      '!src/**/*.test.ts',
      '!src/testFixtures.ts',
      '!src/setupTests.ts',
    ],
  },
  // The pure modules; routers, services that talk to a cluster and the plugin wiring
  // are left to the integration tests.
  'rollouts-backend': {
    mutate: [
      'src/permissionPolicy.ts',
      'src/settings.ts',
      'src/services/entitySelection.ts',
      'src/services/clusters/kubeErrors.ts',
      'src/services/clusters/readClusterConfigs.ts',
    ],
    tests: [
      'src/permissionPolicy.test.ts',
      'src/settings.test.ts',
      'src/services/entitySelection.test.ts',
      'src/services/clusters/kubeErrors.test.ts',
      'src/services/clusters/readClusterConfigs.test.ts',
    ],
  },
  // The pure logic; the actions and the clients of Gitea, GitHub and the cluster are
  // left to their own tests.
  'scaffolder-backend-module-golden-path': {
    mutate: [
      'src/kubernetes/namespaceScope.ts',
      'src/kubernetes/rolloutProgress.ts',
      'src/kubernetes/settings.ts',
    ],
    tests: [
      'src/kubernetes/namespaceScope.test.ts',
      'src/kubernetes/rolloutProgress.test.ts',
      'src/kubernetes/settings.test.ts',
    ],
  },
};

const packageDir = path.basename(process.cwd());
const settings = PACKAGES[packageDir];
if (!settings) {
  throw new Error(
    `No mutation testing settings for ${packageDir} (known: ${Object.keys(
      PACKAGES,
    ).join(', ')})`,
  );
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: settings.mutate,
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: path.join(import.meta.dirname, 'jest.config.cjs'),
    enableFindRelatedTests: true,
    ...(settings.tests && {
      config: { testMatch: settings.tests.map(glob => `**/${glob}`) },
    }),
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
