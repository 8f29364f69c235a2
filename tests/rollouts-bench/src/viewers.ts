import {
  EntityRolloutsResponse,
  RolloutsSignal,
} from '@golden-path/plugin-rollouts-common';
import { KubernetesObjectsResponse, PortalClient } from './portal';

/** Backstage's Kubernetes tab refreshes every 10 s (useKubernetesObjects). */
export const KUBERNETES_TAB_POLL_MS = 10_000;

/** Pod readiness as one open page currently shows it. */
export type PodReadiness = Map<string, boolean>;

/** An open entity page: it loads, then keeps its view fresh its own way. */
export interface Viewer {
  readonly label: string;
  /** Resolves after the first load. */
  open(): Promise<void>;
  close(): void;
  /** The pods and their readiness in the latest answer the page shows. */
  readonly pods: PodReadiness;
  /** Called whenever the page shows a new answer. */
  onUpdate?: (pods: PodReadiness) => void;
  readonly errors: Error[];
}

export function podsOfRollouts(status: EntityRolloutsResponse): PodReadiness {
  const pods: PodReadiness = new Map();
  for (const c of status.clusters) {
    for (const d of c.deployments) {
      for (const p of d.pods) pods.set(p.pod, p.ready);
    }
  }
  return pods;
}

export function podsOfKubernetes(
  response: KubernetesObjectsResponse,
): PodReadiness {
  const pods: PodReadiness = new Map();
  for (const cluster of response.items) {
    for (const group of cluster.resources) {
      if (group.type !== 'pods') continue;
      for (const pod of group.resources) {
        const ready = (pod.status?.conditions ?? []).some(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        );
        pods.set(pod.metadata?.name, ready);
      }
    }
  }
  return pods;
}

/** The Kubernetes tab: loads at once, then polls every 10 s. */
export class KubernetesTabViewer implements Viewer {
  readonly label = 'Kubernetes plugin tab';
  pods: PodReadiness = new Map();
  onUpdate?: (pods: PodReadiness) => void;
  readonly errors: Error[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly portal: PortalClient,
    private readonly pollMs = KUBERNETES_TAB_POLL_MS,
  ) {}

  private async load() {
    try {
      this.pods = podsOfKubernetes(await this.portal.kubernetesObjects());
      this.onUpdate?.(this.pods);
    } catch (e) {
      this.errors.push(e as Error);
    }
  }

  async open() {
    await this.load();
    this.timer = setInterval(() => void this.load(), this.pollMs);
  }

  close() {
    clearInterval(this.timer);
  }
}

/**
 * The rollouts tab: loads once, then loads again on each signal (as its
 * useRollouts hook does); the newest answer wins.
 */
export class RolloutsTabViewer implements Viewer {
  readonly label = 'rollouts plugin tab';
  pods: PodReadiness = new Map();
  /** The latest answer the page shows. */
  status?: EntityRolloutsResponse;
  onUpdate?: (pods: PodReadiness) => void;
  /** Called with each answer the page shows, with when it arrived. */
  onStatus?: (status: EntityRolloutsResponse, at: number) => void;
  readonly errors: Error[] = [];
  signals = 0;
  /** Signals received, in order, with when they arrived. */
  readonly received: { signal: RolloutsSignal; at: number }[] = [];
  /** Loads after the first, one per change signalled. */
  reloads = 0;
  private unsubscribe?: () => void;
  private generation = 0;

  constructor(private readonly portal: PortalClient) {}

  private async load() {
    const generation = ++this.generation;
    try {
      const status = await this.portal.rolloutsStatus();
      if (generation !== this.generation) return;
      this.status = status;
      this.pods = podsOfRollouts(status);
      this.onUpdate?.(this.pods);
      this.onStatus?.(status, Date.now());
    } catch (e) {
      this.errors.push(e as Error);
    }
  }

  async open() {
    this.unsubscribe = await this.portal.subscribeRollouts(signal => {
      this.signals += 1;
      this.received.push({ signal, at: Date.now() });
      // As useRollouts: every copy of a change reloads (one per replica that
      // watches the entity); a keepalive only says the link is up.
      if (signal.type === 'changed') {
        this.reloads += 1;
        void this.load();
      }
    });
    await this.load();
  }

  close() {
    this.unsubscribe?.();
  }
}
