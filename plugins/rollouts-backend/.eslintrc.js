module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The test backend harnesses shared by this package's tests and its
      // integration tests: they need the test-only packages (startTestBackend,
      // mockServices, supertest). Neither is part of the exported ./testUtils
      // entry point (see src/testUtils/index.ts).
      files: [
        'src/testUtils/startRolloutsBackend.ts',
        'src/integration/fixture.ts',
      ],
      rules: { '@backstage/no-undeclared-imports': 'off' },
    },
  ],
});
