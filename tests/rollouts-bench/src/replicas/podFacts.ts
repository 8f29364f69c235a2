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

/** A container's memory as its cgroup counts it. */
export interface CgroupMemory {
  /** Everything charged, page cache included (v2 memory.current, v1 memory.usage_in_bytes). */
  currentBytes: number;
  /** The processes' own memory: heap, stacks, no cache (v2 anon, v1 total_rss). */
  anonBytes: number;
}

/**
 * What `CGROUP_MEMORY_COMMAND` prints in a container: the charged total (one
 * number), then memory.stat's "key value" lines, of cgroup v2 or v1 (the
 * local nodes' kubelet runs on a v1 hybrid). Anything else is an error naming
 * the input: a changed file must not read as 0 bytes.
 */
export function parseCgroupMemory(text: string): CgroupMemory {
  const [current, ...stat] = text.trim().split('\n');
  const values = new Map(
    stat.map(line => {
      const [key, value] = line.trim().split(/\s+/);
      return [key, value];
    }),
  );
  // v2 names the anonymous memory "anon"; v1 "total_rss" (with children).
  const anon = values.get('anon') ?? values.get('total_rss');
  if (!/^\d+$/.test(current?.trim() ?? '') || !/^\d+$/.test(anon ?? '')) {
    throw new Error(
      `not a cgroup's memory total and memory.stat (v2 anon or v1 total_rss): ${text.slice(
        0,
        120,
      )}`,
    );
  }
  return { currentBytes: Number(current), anonBytes: Number(anon) };
}

/** Prints a container's own cgroup memory: v2 files, else v1's. */
export const CGROUP_MEMORY_COMMAND = [
  'sh',
  '-c',
  'cat /sys/fs/cgroup/memory.current /sys/fs/cgroup/memory.stat 2>/dev/null ||' +
    ' cat /sys/fs/cgroup/memory/memory.usage_in_bytes /sys/fs/cgroup/memory/memory.stat',
];
