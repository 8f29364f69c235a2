/*
 * How each pod of a rolling restart stopped, read from the events of
 * `kubectl get pods --watch --output-watch-events -o json`: whether its
 * container exited by itself within the pod's grace period or was killed when
 * the period ended (exit code 137, SIGKILL). The portal's backend must exit by
 * itself: deploy/portal gives it 30 s, of which 15 s are the drain delay
 * (packages/backend/README.md, "Stopping").
 */

/** The part of a Pod these functions read. */
export interface WatchedPod {
  metadata: {
    name: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  status?: {
    containerStatuses?: {
      name: string;
      state?: { terminated?: { exitCode: number } };
    }[];
  };
}

export interface PodWatchEvent {
  type: string;
  object: WatchedPod;
  /** When this process read the event (ms since the epoch). */
  receivedAt: number;
}

export interface PodTermination {
  pod: string;
  gracePeriodSeconds?: number;
  /** From the first event with a deletion timestamp to the container's exit
   * (or, when no exit was seen, the pod's removal); unset while it runs. */
  stopSeconds?: number;
  exitCode?: number;
  /** Killed by the kubelet: exit code 137, or stopped only when its grace
   * period had passed. */
  killed: boolean;
}

const SIGKILL_EXIT_CODE = 137;

/** Every pod that was being deleted during the watch, and how it stopped. */
export function podTerminations(
  events: PodWatchEvent[],
  container: string,
): PodTermination[] {
  const byPod = new Map<
    string,
    {
      deletingAt: number;
      grace?: number;
      stoppedAt?: number;
      exitCode?: number;
    }
  >();
  for (const { type, object, receivedAt } of events) {
    const name = object.metadata.name;
    let entry = byPod.get(name);
    if (!entry && object.metadata.deletionTimestamp) {
      entry = {
        deletingAt: receivedAt,
        grace: object.metadata.deletionGracePeriodSeconds,
      };
      byPod.set(name, entry);
    }
    if (!entry || entry.exitCode !== undefined) continue;
    const terminated = object.status?.containerStatuses?.find(
      c => c.name === container,
    )?.state?.terminated;
    if (terminated) {
      entry.exitCode = terminated.exitCode;
      entry.stoppedAt = receivedAt;
    } else if (type === 'DELETED' && entry.stoppedAt === undefined) {
      entry.stoppedAt = receivedAt;
    }
  }
  return [...byPod].map(([pod, e]) => {
    const stopSeconds =
      e.stoppedAt === undefined
        ? undefined
        : (e.stoppedAt - e.deletingAt) / 1000;
    return {
      pod,
      gracePeriodSeconds: e.grace,
      stopSeconds,
      exitCode: e.exitCode,
      killed:
        e.exitCode === SIGKILL_EXIT_CODE ||
        (stopSeconds !== undefined &&
          e.grace !== undefined &&
          stopSeconds >= e.grace),
    };
  });
}

/**
 * Splits kubectl's stream of JSON documents (`-o json` with --watch prints one
 * indented object after another) into parsed values. Feed it chunks as they
 * arrive; it returns the documents completed so far and keeps the rest.
 */
export class JsonStreamSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const documents: unknown[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        this.inString = true;
      } else if (c === '{') {
        if (this.depth++ === 0) this.start = i;
      } else if (c === '}') {
        if (--this.depth === 0) {
          documents.push(JSON.parse(this.buffer.slice(this.start, i + 1)));
          this.buffer = this.buffer.slice(i + 1);
          i = -1;
          this.start = -1;
        }
      }
      this.scanned = i + 1;
    }
    return documents;
  }
}
