import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1Pod,
  V1PodReadinessGate,
} from '@kubernetes/client-node';

/**
 * A pod readiness gate the test opens itself: a pod whose spec lists it is
 * Ready only once its containers are ready and the test has set the gate's
 * condition to True (the kubelet keeps conditions it does not own and
 * recomputes Ready when one changes). It lets a test hold new pods un-Ready
 * for as long as it needs, without timing: the pdb-drain test holds the
 * first eviction's replacement until it has seen the budget refuse the next.
 */
export const TEST_GATE = 'golden-path.test/released';

export const readinessGates: V1PodReadinessGate[] = [
  { conditionType: TEST_GATE },
];

const strategicMerge = setHeaderOptions(
  'Content-Type',
  PatchStrategy.StrategicMergePatch,
);

const containersReady = (pod: V1Pod) =>
  pod.status?.conditions?.some(
    c => c.type === 'ContainersReady' && c.status === 'True',
  ) ?? false;

const gateOpen = (pod: V1Pod) =>
  pod.status?.conditions?.some(
    c => c.type === TEST_GATE && c.status === 'True',
  ) ?? false;

/**
 * Opens the gate of every pod matching `labelSelector` in `namespace` whose
 * containers are ready, every `intervalMs`; hold() stops that until release().
 * Pods whose gate is already open stay Ready.
 */
export function gateKeeper(
  core: CoreV1Api,
  namespace: string,
  labelSelector: string,
  intervalMs = 200,
) {
  let holding = false;
  let stopped = false;
  let failure: Error | undefined;

  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = await core.listNamespacedPod({ namespace, labelSelector });
        for (const pod of pods.items) {
          if (holding || gateOpen(pod) || !containersReady(pod)) continue;
          if (pod.metadata?.deletionTimestamp) continue;
          const name = pod.metadata!.name!;
          await core
            .patchNamespacedPodStatus(
              {
                name,
                namespace,
                body: {
                  status: {
                    conditions: [
                      {
                        type: TEST_GATE,
                        status: 'True',
                        lastTransitionTime: new Date(),
                      },
                    ],
                  },
                },
              },
              strategicMerge,
            )
            .catch(e => {
              // Deleted since the list: nothing to release.
              if (!(e instanceof ApiException && e.code === 404)) throw e;
            });
        }
      } catch (e) {
        failure = e as Error;
        return;
      }
      await new Promise(r => setTimeout(r, intervalMs));
    }
  })();

  return {
    hold() {
      holding = true;
    },
    release() {
      holding = false;
    },
    async stop() {
      stopped = true;
      await loop;
      if (failure) throw failure;
    },
  };
}
