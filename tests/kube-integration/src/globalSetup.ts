import { startCluster } from './clusterControl';

export default async function globalSetup(): Promise<void> {
  startCluster();
}
