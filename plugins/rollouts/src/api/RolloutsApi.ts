import { CompoundEntityRef } from '@backstage/catalog-model';
import { createApiRef } from '@backstage/frontend-plugin-api';
import {
  DeploymentActionRequest,
  EntityRolloutsResponse,
  RestartDeploymentResponse,
  RollbackTrafficRequest,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
  TrafficPreflightRequest,
  TrafficPreflightResponse,
  UndoDeploymentRequest,
  UndoDeploymentResponse,
} from '@golden-path/plugin-rollouts-common';

/**
 * Options of a write. `headers` carries the user's own Kubernetes credentials
 * for clusters whose writes use them (see `ClusterWriteAccess`).
 *
 * @public
 */
export interface RolloutsWriteOptions {
  headers?: Record<string, string>;
}

/**
 * Client of the rollouts backend.
 *
 * @public
 */
export interface RolloutsApi {
  getStatus(entity: CompoundEntityRef): Promise<EntityRolloutsResponse>;
  /**
   * The checks a switch or rollback would run (the smoke test included),
   * without changing anything: what the confirmation shows.
   */
  preflightTraffic(
    entity: CompoundEntityRef,
    request: TrafficPreflightRequest,
    options?: RolloutsWriteOptions,
  ): Promise<TrafficPreflightResponse>;
  switchTraffic(
    entity: CompoundEntityRef,
    request: SwitchTrafficRequest,
    options?: RolloutsWriteOptions,
  ): Promise<SwitchTrafficResponse>;
  rollbackTraffic(
    entity: CompoundEntityRef,
    request: RollbackTrafficRequest,
    options?: RolloutsWriteOptions,
  ): Promise<SwitchTrafficResponse>;
  restartDeployment(
    entity: CompoundEntityRef,
    request: DeploymentActionRequest,
    options?: RolloutsWriteOptions,
  ): Promise<RestartDeploymentResponse>;
  undoDeployment(
    entity: CompoundEntityRef,
    request: UndoDeploymentRequest,
    options?: RolloutsWriteOptions,
  ): Promise<UndoDeploymentResponse>;
}

/**
 * ApiRef of {@link RolloutsApi}.
 *
 * @public
 */
export const rolloutsApiRef = createApiRef<RolloutsApi>().with({
  id: 'plugin.rollouts.client',
  pluginId: 'rollouts',
});
