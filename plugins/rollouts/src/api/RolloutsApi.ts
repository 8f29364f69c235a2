import { CompoundEntityRef } from '@backstage/catalog-model';
import { createApiRef } from '@backstage/frontend-plugin-api';
import {
  DeploymentActionRequest,
  EntityRolloutsResponse,
  RestartDeploymentResponse,
  RollbackTrafficRequest,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
  UndoDeploymentRequest,
  UndoDeploymentResponse,
} from '@internal/plugin-rollouts-common';

/**
 * Client of the rollouts backend.
 *
 * @public
 */
export interface RolloutsApi {
  getStatus(entity: CompoundEntityRef): Promise<EntityRolloutsResponse>;
  switchTraffic(
    entity: CompoundEntityRef,
    request: SwitchTrafficRequest,
  ): Promise<SwitchTrafficResponse>;
  rollbackTraffic(
    entity: CompoundEntityRef,
    request: RollbackTrafficRequest,
  ): Promise<SwitchTrafficResponse>;
  restartDeployment(
    entity: CompoundEntityRef,
    request: DeploymentActionRequest,
  ): Promise<RestartDeploymentResponse>;
  undoDeployment(
    entity: CompoundEntityRef,
    request: UndoDeploymentRequest,
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
