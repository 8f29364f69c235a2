/*
 * What the load saw while traffic moved from one version to another (a blue-green
 * switch, a rollback, a rolling update), measured from the write that moved it (the
 * PATCH): when new connections stopped reaching the old version, how long kept-alive
 * connections still did, and every lost request. Pure functions over the samples of
 * load.ts, so the definitions are unit-tested apart from the cluster.
 */
import type { ConnectionMode, Sample } from './load';

export interface ModeCounts {
  requests: number;
  /** Answered with a status outside 2xx. */
  non2xx: number;
  /** No answer: connection refused or reset, timeout. */
  errors: number;
}

export interface TrafficShift {
  /** Phase name, e.g. "switch blue → green". */
  phase: string;
  /** The version traffic moved to. */
  target: string;
  /** How long the action took (the script's run, the rollout), for the table. */
  actionMs: number;
  /** From the PATCH to the end of the load. */
  observedMs: number;
  counts: Record<ConnectionMode, ModeCounts>;
  /**
   * From the PATCH until new connections reached only the target: the send time of the
   * last new-connection request (sent after the PATCH) that the old version answered; 0
   * when none did. Undefined when the target never answered a new connection after the
   * last old answer (the traffic did not move).
   */
  newConnectionsMovedMs?: number;
  /**
   * From the PATCH to the last answer the old version gave a kept-alive connection;
   * 0 when none after the PATCH.
   */
  keepAliveOldUntilMs: number;
  /**
   * The median time a new-connection request took: the resolution of the times above
   * (a request is routed when its connection opens, somewhere within it).
   */
  newConnectionMedianMs: number;
  /** Keep-alive clients whose last answer of the phase still came from the old version. */
  keepAliveStillOld: number;
  keepAliveClients: number;
  /** Connections the keep-alive clients opened (more than one each: the server closed some). */
  keepAliveConnections: number;
}

const isOk = (s: Sample) => s.status >= 200 && s.status < 300;
const isOld = (s: Sample, target: string) => isOk(s) && s.version !== target;

function counts(samples: Sample[], mode: ConnectionMode): ModeCounts {
  const mine = samples.filter(s => s.mode === mode);
  return {
    requests: mine.length,
    non2xx: mine.filter(s => s.status !== 0 && !isOk(s)).length,
    errors: mine.filter(s => s.status === 0).length,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function newConnectionsMoved(
  samples: Sample[],
  patchedAt: number,
  target: string,
): number | undefined {
  const after = samples
    .filter(s => s.mode === 'new connection' && s.sentAt >= patchedAt)
    .filter(isOk)
    .sort((a, b) => a.sentAt - b.sentAt);
  let lastOld: Sample | undefined;
  for (const s of after) if (s.version !== target) lastOld = s;
  const movedAt = lastOld?.sentAt ?? patchedAt;
  // The move is proven only by an answer of the target after the last old one.
  const targetAfter = after.some(
    s => s.version === target && s.sentAt >= movedAt && s !== lastOld,
  );
  return targetAfter ? movedAt - patchedAt : undefined;
}

/** The numbers of one phase from the samples of its load. */
export function measureShift(options: {
  phase: string;
  samples: Sample[];
  patchedAt: number;
  target: string;
  actionMs: number;
}): TrafficShift {
  const { samples, patchedAt, target } = options;
  const keepAlive = samples.filter(s => s.mode === 'keep-alive');
  const oldKeptAlive = keepAlive.filter(
    s => isOld(s, target) && s.answeredAt >= patchedAt,
  );
  // A client has one connection at a time: its last answer tells where it ended up.
  const lastAnswerPerClient = new Map<number, Sample>();
  for (const s of keepAlive.filter(isOk)) {
    const seen = lastAnswerPerClient.get(s.client);
    if (!seen || seen.answeredAt <= s.answeredAt)
      lastAnswerPerClient.set(s.client, s);
  }
  const ends = samples.map(s => s.answeredAt);
  return {
    phase: options.phase,
    target,
    actionMs: options.actionMs,
    observedMs: ends.length ? Math.max(...ends) - patchedAt : 0,
    counts: {
      'new connection': counts(samples, 'new connection'),
      'keep-alive': counts(samples, 'keep-alive'),
    },
    newConnectionsMovedMs: newConnectionsMoved(samples, patchedAt, target),
    newConnectionMedianMs: median(
      samples
        .filter(s => s.mode === 'new connection')
        .map(s => s.answeredAt - s.sentAt),
    ),
    keepAliveOldUntilMs: oldKeptAlive.length
      ? Math.max(...oldKeptAlive.map(s => s.answeredAt)) - patchedAt
      : 0,
    keepAliveStillOld: [...lastAnswerPerClient.values()].filter(
      s => s.version !== target,
    ).length,
    keepAliveClients: new Set(keepAlive.map(s => s.client)).size,
    keepAliveConnections: new Set(keepAlive.map(s => s.connection)).size,
  };
}

/** Requests of the phase that got no 2xx answer. */
export function lost(shift: TrafficShift): number {
  return Object.values(shift.counts).reduce(
    (n, c) => n + c.non2xx + c.errors,
    0,
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function keepAliveCell(s: TrafficShift): string {
  if (s.keepAliveStillOld > 0) {
    return `${seconds(s.observedMs)}+ (${s.keepAliveStillOld} of ${
      s.keepAliveClients
    } clients still on it at the end)`;
  }
  return seconds(s.keepAliveOldUntilMs);
}

/** The phases side by side, one row each, columns aligned. */
export function shiftTable(shifts: TrafficShift[]): string[] {
  const header = [
    'phase',
    'action took',
    'requests (new conn. / keep-alive)',
    'non-2xx',
    'conn. errors',
    'new conn. only on target after',
    'new conn. median request',
    'keep-alive reached old version until',
  ];
  const rows = shifts.map(s => {
    const n = s.counts['new connection'];
    const k = s.counts['keep-alive'];
    return [
      `${s.phase} (→ ${s.target})`,
      seconds(s.actionMs),
      `${n.requests} / ${k.requests}`,
      String(n.non2xx + k.non2xx),
      String(n.errors + k.errors),
      s.newConnectionsMovedMs === undefined
        ? 'never'
        : seconds(s.newConnectionsMovedMs),
      `${Math.round(s.newConnectionMedianMs)} ms`,
      keepAliveCell(s),
    ];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map(r => r[i].length)),
  );
  return [header, ...rows].map(r =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join(' | ')
      .trimEnd(),
  );
}
