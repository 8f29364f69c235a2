// Mutation testing of the module's pure logic (run by `make mutation`, see
// scripts/mutation.sh). The actions and the clients of Gitea, GitHub and the cluster are
// left to their own tests.
import { strykerConfig } from '../../scripts/mutation/stryker.base.mjs';

export default strykerConfig({
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
});
