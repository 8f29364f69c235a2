import type {
  KubeDeployment,
  KubeObject,
  KubePod,
} from '@golden-path/plugin-rollouts-common';
import {
  ApplyResult,
  KindInfo,
  KubeApiError,
  KubeCluster,
} from '../kubernetes/clusterClient';
import type { KubeReplicaSetWithConditions } from '../kubernetes/rolloutProgress';

/** One request the fake received. */
export interface FakeApply {
  object: KubeObject;
  dryRun: boolean;
  fieldManager: string;
  /** False when `refuse` turned it down. */
  accepted: boolean;
}

/** What the workloads of a namespace look like at one poll. */
export interface WorkloadSnapshot {
  deployments: KubeDeployment[];
  replicaSets?: KubeReplicaSetWithConditions[];
  pods?: KubePod[];
}

const KINDS: Record<string, Record<string, KindInfo>> = {
  v1: {
    Namespace: { resource: 'namespaces', namespaced: false },
    ConfigMap: { resource: 'configmaps', namespaced: true },
    Service: { resource: 'services', namespaced: true },
  },
  'apps/v1': {
    Deployment: { resource: 'deployments', namespaced: true },
  },
  'rbac.authorization.k8s.io/v1': {
    ClusterRole: { resource: 'clusterroles', namespaced: false },
  },
  'source.toolkit.fluxcd.io/v1': {
    GitRepository: { resource: 'gitrepositories', namespaced: true },
  },
  'kustomize.toolkit.fluxcd.io/v1': {
    Kustomization: { resource: 'kustomizations', namespaced: true },
  },
};

/** How the fake files an object: apiVersion, kind, namespace and name. */
export function objectKey(ref: {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
}): string {
  return `${ref.apiVersion} ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
}

/**
 * An in-memory stand-in for the cluster the Kubernetes actions talk to: API discovery
 * for a few kinds, namespaces, every apply recorded (dry-run or not), refusals decided
 * by the test, and workload snapshots served one per poll (the last one repeats).
 */
export class FakeKubeCluster implements KubeCluster {
  readonly applied: FakeApply[] = [];
  readonly namespaces = new Map<string, KubeObject>();
  /** Other objects by {@link objectKey}: what was applied, and what a test put there. */
  readonly objects = new Map<string, KubeObject>();
  /** Called before every getObject (e.g. to move a controller's status on). */
  onGetObject: () => void = () => {};
  /** Returns the API server's refusal of an apply, if any. */
  refuse: (object: KubeObject, dryRun: boolean) => KubeApiError | undefined =
    () => undefined;
  snapshots: WorkloadSnapshot[] = [{ deployments: [] }];
  polls = 0;
  /** Called at the start of every poll (e.g. to move a test clock). */
  onPoll: () => void = () => {};
  private nextResourceVersion = 100;

  constructor(namespaces: KubeObject[] = []) {
    for (const ns of namespaces) this.namespaces.set(ns.metadata!.name!, ns);
  }

  /** Every apply request as [kind, namespace, dryRun, fieldManager], in order. */
  requests(): [string?, string?, boolean?, string?][] {
    return this.applied.map(a => [
      a.object.kind,
      a.object.metadata?.namespace,
      a.dryRun,
      a.fieldManager,
    ]);
  }

  /** What was really written (accepted, not dry-runs), as `Kind/name`. */
  writes(): string[] {
    return this.applied
      .filter(a => a.accepted && !a.dryRun)
      .map(a => `${a.object.kind}/${a.object.metadata?.name}`);
  }

  async kindInfo(apiVersion: string, kind: string): Promise<KindInfo> {
    const info = KINDS[apiVersion]?.[kind];
    if (!info) {
      throw new KubeApiError(
        404,
        undefined,
        `the cluster serves no kind ${kind} in ${apiVersion}`,
      );
    }
    return info;
  }

  async apply(
    object: KubeObject,
    options: { fieldManager: string; dryRun: boolean },
  ): Promise<ApplyResult> {
    const refusal = this.refuse(object, options.dryRun);
    this.applied.push({ object, ...options, accepted: !refusal });
    if (refusal) throw refusal;
    if (!options.dryRun) {
      const stored = {
        ...object,
        metadata: {
          ...object.metadata,
          resourceVersion: String(this.nextResourceVersion++),
        },
      };
      if (object.kind === 'Namespace') {
        this.namespaces.set(object.metadata!.name!, stored);
      } else {
        const key = objectKey({ ...object, ...object.metadata });
        // As on a real API server, an apply leaves the controller's status alone.
        const { status } = (this.objects.get(key) ?? {}) as {
          status?: unknown;
        };
        this.objects.set(key, { ...stored, ...(status ? { status } : {}) });
      }
    }
    return { object, warnings: [] };
  }

  async getNamespace(name: string) {
    return this.namespaces.get(name);
  }

  async getObject(ref: {
    apiVersion: string;
    kind: string;
    namespace?: string;
    name: string;
  }) {
    await this.kindInfo(ref.apiVersion, ref.kind);
    this.onGetObject();
    return this.objects.get(objectKey(ref));
  }

  /** The snapshot of the current poll; reading the Deployments starts a poll. */
  private current: WorkloadSnapshot | undefined;

  async listDeployments() {
    this.onPoll();
    this.current =
      this.snapshots[Math.min(this.polls, this.snapshots.length - 1)];
    this.polls += 1;
    return this.current.deployments;
  }

  async listReplicaSets() {
    return this.current?.replicaSets ?? [];
  }

  async listPods() {
    return this.current?.pods ?? [];
  }
}

/**
 * Checkpoints as the scaffolder keeps them across attempts of one task: a key that
 * succeeded returns its stored value without running `fn` again; a failed one runs
 * again. Pass `checkpoint` into an action context; `state` is the task state.
 */
export function checkpointStore() {
  const state = new Map<string, unknown>();
  return {
    state,
    async checkpoint<T>(opts: { key: string; fn: () => Promise<T> | T }) {
      if (state.has(opts.key)) return state.get(opts.key) as T;
      const value = await opts.fn();
      state.set(opts.key, value ?? {});
      return value;
    },
  };
}
