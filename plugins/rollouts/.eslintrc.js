module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The render harness the component tests share: it needs the test-only
      // packages (frontend-test-utils, testing-library, permission-common).
      files: ['src/testing/renderRollouts.tsx'],
      rules: { '@backstage/no-undeclared-imports': 'off' },
    },
  ],
});
