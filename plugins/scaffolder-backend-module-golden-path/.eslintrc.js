module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The action context and the permission/auditor mocks the package's tests share:
      // they need the test-only packages (createMockActionContext, mockServices). They
      // are not part of the exported ./testUtils entry point (see src/testUtils/index.ts).
      files: ['src/testUtils/actionContext.ts', 'src/testUtils/writeAccess.ts'],
      rules: { '@backstage/no-undeclared-imports': 'off' },
    },
  ],
});
