module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // The benchmarks measure the backend plugin's own cache and read the API
    // server's audit log with its test utilities; nothing here ships.
    '@backstage/no-mixed-plugin-imports': [
      'warn',
      { excludedTargetPackages: ['@golden-path/plugin-rollouts-backend'] },
    ],
  },
});
