/**
 * Accounting of a steady load sent through a Service while its pods are
 * replaced: every request the generator started is an outcome, and a request
 * is lost when it got no answer or an answer other than the expected status.
 * Pure: the generator (steadyLoad.ts) records, this decides.
 */

/** One request as the generator saw it. */
export interface RequestOutcome {
  /** What was asked, e.g. "readiness" or "rollouts status". */
  kind: string;
  /** Epoch ms when the request was sent and when its answer (or error) came. */
  startedAt: number;
  endedAt: number;
  /** The HTTP status, or undefined when no answer came (reset, refused, timeout). */
  status?: number;
  /** The network error, when there was no answer. */
  error?: string;
}

export interface LossSummary {
  sent: number;
  lost: number;
  /** Lost requests by reason: "HTTP 503", "ECONNRESET", ... */
  lostBy: Record<string, number>;
  /** First and last lost request's start (epoch ms), when any was lost. */
  firstLostAt?: number;
  lastLostAt?: number;
  /** The slowest answered request (ms). */
  slowestMs: number;
}

/** Why a request counts as lost, or undefined when it was answered as expected. */
export function lossReason(
  outcome: RequestOutcome,
  expectedStatus = 200,
): string | undefined {
  if (outcome.status === undefined) return outcome.error || 'no answer';
  if (outcome.status !== expectedStatus) return `HTTP ${outcome.status}`;
  return undefined;
}

export function summarizeLoss(
  outcomes: readonly RequestOutcome[],
  expectedStatus = 200,
): LossSummary {
  const summary: LossSummary = { sent: 0, lost: 0, lostBy: {}, slowestMs: 0 };
  for (const outcome of outcomes) {
    if (!(outcome.endedAt >= outcome.startedAt)) {
      throw new Error(
        `a request ended before it started: ${JSON.stringify(outcome)}`,
      );
    }
    summary.sent += 1;
    const reason = lossReason(outcome, expectedStatus);
    if (reason === undefined) {
      summary.slowestMs = Math.max(
        summary.slowestMs,
        outcome.endedAt - outcome.startedAt,
      );
      continue;
    }
    summary.lost += 1;
    summary.lostBy[reason] = (summary.lostBy[reason] ?? 0) + 1;
    summary.firstLostAt = Math.min(
      summary.firstLostAt ?? outcome.startedAt,
      outcome.startedAt,
    );
    summary.lastLostAt = Math.max(
      summary.lastLostAt ?? outcome.startedAt,
      outcome.startedAt,
    );
  }
  return summary;
}

/**
 * Requests the generator should have sent at `ratePerSecond` over the window
 * but did not (it fell behind by more than `tolerance`, a fraction of the
 * expected count): a generator that stalls would otherwise hide lost requests
 * by not sending them. Timers drift on a loaded machine, hence the tolerance.
 */
export function missingSends(
  sent: number,
  windowMs: number,
  ratePerSecond: number,
  tolerance = 0.05,
): number {
  if (!(ratePerSecond > 0) || !(windowMs >= 0) || !(tolerance >= 0)) {
    throw new Error(
      `bad load shape: ${ratePerSecond}/s over ${windowMs} ms, tolerance ${tolerance}`,
    );
  }
  const expected = Math.floor((windowMs / 1000) * ratePerSecond);
  const allowed = Math.max(1, Math.ceil(expected * tolerance));
  return Math.max(0, expected - allowed - sent);
}
