// Mutation testing of the package's pure modules (run by `make mutation`, see
// scripts/mutation.sh). The routers, services that talk to a cluster and the plugin
// wiring are left to the integration tests.
import { strykerConfig } from '../../scripts/mutation/stryker.base.mjs';

export default strykerConfig({
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
});
