module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The test backend harness shared by this package's tests: it needs
      // the test-only packages (startTestBackend, supertest). It is not part
      // of the exported ./testUtils entry point (see src/testUtils/index.ts).
      files: ['src/testUtils/startRolloutsBackend.ts'],
      rules: { '@backstage/no-undeclared-imports': 'off' },
    },
  ],
});
