/** What the pod test needs of a pod in `kubectl get pods -o json`. */
export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

/** A pod that serves now: reachable at `ip`. */
export interface ServingPod {
  name: string;
  ip: string;
}

/**
 * The pods that serve requests now, by name: Running, Ready, with an IP, and
 * not terminating (after a rolling restart the old pods stay listed while they
 * drain, and a draining pod fails its readiness on purpose).
 */
export function servingPods(items: readonly PodJson[]): ServingPod[] {
  return items
    .filter(
      p =>
        !p.metadata.deletionTimestamp &&
        p.status?.phase === 'Running' &&
        !!p.status.podIP &&
        !!p.status.conditions?.some(
          c => c.type === 'Ready' && c.status === 'True',
        ),
    )
    .map(p => ({ name: p.metadata.name, ip: p.status!.podIP! }))
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** A container's memory as its cgroup (v2) counts it. */
export interface CgroupMemory {
  /** memory.current: everything charged, page cache included. */
  currentBytes: number;
  /** memory.stat anon: the process's own memory (heap, stacks), no cache. */
  anonBytes: number;
}

/**
 * Parses `cat memory.current memory.stat` of a cgroup v2: one number, then
 * "key value" lines. Anything else is an error naming the input: a cgroup v1
 * node or a changed file must not read as 0 bytes.
 */
export function parseCgroupMemory(text: string): CgroupMemory {
  const [current, ...stat] = text.trim().split('\n');
  const currentBytes = Number(current);
  const anon = stat
    .map(line => line.trim().split(/\s+/))
    .find(([key]) => key === 'anon');
  const anonBytes = Number(anon?.[1]);
  if (
    !/^\d+$/.test(current?.trim() ?? '') ||
    !anon ||
    !Number.isSafeInteger(anonBytes)
  ) {
    throw new Error(
      `not the output of cat memory.current memory.stat (cgroup v2): ${text.slice(
        0,
        120,
      )}`,
    );
  }
  return { currentBytes, anonBytes };
}
