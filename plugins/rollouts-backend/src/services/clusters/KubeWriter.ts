import {
  JsonPatchOperation,
  KubeDeployment,
  KubeReplicaSet,
  KubeService,
} from '@golden-path/plugin-rollouts-common';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRawRequest, kubeRequest } from './kubeHttp';
import { ClusterWriter } from './types';

const enc = encodeURIComponent;

/** {@link ClusterWriter} over the API server with one identity. */
export class KubeWriter implements ClusterWriter {
  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number = 30_000,
  ) {}

  private servicePath(namespace: string, name: string) {
    return `/api/v1/namespaces/${enc(namespace)}/services/${enc(name)}`;
  }

  private deploymentPath(namespace: string, name: string) {
    return `/apis/apps/v1/namespaces/${enc(namespace)}/deployments/${enc(
      name,
    )}`;
  }

  getService(namespace: string, name: string): Promise<KubeService> {
    return kubeRequest<KubeService>(
      this.kc,
      this.servicePath(namespace, name),
      {
        timeoutMs: this.timeoutMs,
      },
    );
  }

  getDeployment(namespace: string, name: string): Promise<KubeDeployment> {
    return kubeRequest<KubeDeployment>(
      this.kc,
      this.deploymentPath(namespace, name),
      { timeoutMs: this.timeoutMs },
    );
  }

  async listReplicaSets(namespace: string): Promise<KubeReplicaSet[]> {
    const list = await kubeRequest<{ items?: KubeReplicaSet[] }>(
      this.kc,
      `/apis/apps/v1/namespaces/${enc(namespace)}/replicasets`,
      { timeoutMs: this.timeoutMs },
    );
    return list.items ?? [];
  }

  patchService(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeService> {
    return kubeRequest<KubeService>(
      this.kc,
      this.servicePath(namespace, name),
      {
        method: 'PATCH',
        body: patch,
        contentType: 'application/json-patch+json',
        timeoutMs: this.timeoutMs,
      },
    );
  }

  patchDeployment(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeDeployment> {
    return kubeRequest<KubeDeployment>(
      this.kc,
      this.deploymentPath(namespace, name),
      {
        method: 'PATCH',
        body: patch,
        contentType: 'application/json-patch+json',
        timeoutMs: this.timeoutMs,
      },
    );
  }

  getThroughServiceProxy(
    namespace: string,
    name: string,
    port: string,
    path: string,
    timeoutMs: number,
  ): Promise<{ status: number; body: string }> {
    const relative = path.startsWith('/') ? path : `/${path}`;
    return kubeRawRequest(
      this.kc,
      `/api/v1/namespaces/${enc(namespace)}/services/${enc(name)}:${enc(
        port,
      )}/proxy${relative}`,
      { timeoutMs },
    );
  }
}
