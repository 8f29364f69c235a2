module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The action context the package's tests share: it needs the test-only packages
      // (createMockActionContext, mockServices). It is not part of the exported
      // ./testUtils entry point (see src/testUtils/index.ts).
      files: ['src/testUtils/actionContext.ts'],
      rules: { '@backstage/no-undeclared-imports': 'off' },
    },
  ],
});
