import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { navModule } from './modules/nav';
import { homeModule } from './modules/home';
import { kubernetesModule } from './modules/kubernetes';

// Every other plugin is discovered from packages/app/package.json (app.packages: all).
export default createApp({
  features: [catalogPlugin, navModule, homeModule, kubernetesModule],
});
