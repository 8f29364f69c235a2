// Mutation testing of the package (run by `make mutation`, see scripts/mutation.sh).
import { strykerConfig } from '../../scripts/mutation/stryker.base.mjs';

export default strykerConfig({
  mutate: [
    'src/**/*.ts',
    '!src/**/*.test.ts',
    '!src/testFixtures.ts',
    '!src/setupTests.ts',
  ],
});
