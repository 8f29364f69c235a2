import { stopCluster } from './clusterControl';

export default async function globalTeardown(): Promise<void> {
  stopCluster();
}
