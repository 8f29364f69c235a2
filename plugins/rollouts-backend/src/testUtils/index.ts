/**
 * Test utilities of the rollouts backend: reading what the Kubernetes API server
 * audited, and the kinds the plugin's informers watch, for tests and benchmarks that
 * count requests at the server; an in-memory cluster with the fastapi-demo pair, for
 * tests that run the plugin in a backend of their own; the read model and the
 * change notifier, for benchmarks that time them in-process against a real cluster.
 *
 * @packageDocumentation
 */
export {
  ApiServerAuditLog,
  WRITE_VERBS,
  countBy,
  parseAuditLines,
} from './ApiServerAuditLog';
export type { AuditedRequest } from './ApiServerAuditLog';
export { RESOURCE_KINDS } from '../services/clusters/types';
export { FakeCluster, FakeRegistry } from './FakeCluster';
export { demoCluster, deployment, NAMESPACE } from './demoCluster';
export { StatusService } from '../services/status/StatusService';
export { ChangeNotifier } from '../services/ChangeNotifier';
export { entitySelection } from '../services/entitySelection';
export type { EntitySelection } from '../services/entitySelection';
export { readRolloutsSettings } from '../settings';
export type { RolloutsSettings } from '../settings';
// The cluster types the fakes implement, as the main entry point exports them.
export type * from '../services/clusters/types';
export type { ChangeNotifierOptions } from '../services/ChangeNotifier';
export type { CachedObjects } from '../services/clusters/cache/ObjectIndex';
export type { EntityObjects } from '../services/status/entityObjects';
