import { CompoundEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
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
import { RolloutsApi, RolloutsWriteOptions } from './RolloutsApi';

/**
 * {@link RolloutsApi} over the rollouts backend, using the discovery and fetch
 * APIs (so the user's Backstage token is sent along).
 *
 * @public
 */
export class RolloutsClient implements RolloutsApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  private async request<T>(
    entity: CompoundEntityRef,
    path: string,
    body?: object,
    options?: RolloutsWriteOptions,
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('rollouts');
    const entityPath = [entity.kind, entity.namespace, entity.name]
      .map(encodeURIComponent)
      .join('/');
    const response = await this.fetchApi.fetch(
      `${baseUrl}/entity/${entityPath}${path}`,
      body === undefined
        ? undefined
        : {
            method: 'POST',
            headers: {
              ...options?.headers,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify(body),
          },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }

  getStatus(entity: CompoundEntityRef): Promise<EntityRolloutsResponse> {
    return this.request(entity, '/status');
  }

  preflightTraffic(
    entity: CompoundEntityRef,
    request: TrafficPreflightRequest,
    options?: RolloutsWriteOptions,
  ): Promise<TrafficPreflightResponse> {
    return this.request(entity, '/traffic/preflight', request, options);
  }

  switchTraffic(
    entity: CompoundEntityRef,
    request: SwitchTrafficRequest,
    options?: RolloutsWriteOptions,
  ): Promise<SwitchTrafficResponse> {
    return this.request(entity, '/traffic/switch', request, options);
  }

  rollbackTraffic(
    entity: CompoundEntityRef,
    request: RollbackTrafficRequest,
    options?: RolloutsWriteOptions,
  ): Promise<SwitchTrafficResponse> {
    return this.request(entity, '/traffic/rollback', request, options);
  }

  restartDeployment(
    entity: CompoundEntityRef,
    request: DeploymentActionRequest,
    options?: RolloutsWriteOptions,
  ): Promise<RestartDeploymentResponse> {
    return this.request(entity, '/deployments/restart', request, options);
  }

  undoDeployment(
    entity: CompoundEntityRef,
    request: UndoDeploymentRequest,
    options?: RolloutsWriteOptions,
  ): Promise<UndoDeploymentResponse> {
    return this.request(entity, '/deployments/undo', request, options);
  }
}
