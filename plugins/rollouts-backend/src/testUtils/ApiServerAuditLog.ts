import fs from 'node:fs';

/** One API request as the API server's audit log records it (Metadata level). @public */
export interface AuditedRequest {
  auditID: string;
  verb: string;
  username: string;
  requestURI: string;
  /** e.g. "services", "deployments/scale"; undefined for non-resource URLs */
  resource?: string;
  namespace?: string;
  name?: string;
  code?: number;
  userAgent?: string;
  receivedAt: Date;
}

/** Verbs that change state in the API server. @public */
export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);

/**
 * Parses audit log lines (`--audit-log-format=json`). A request can appear once
 * per stage (a watch logs ResponseStarted, then ResponseComplete); it is counted
 * once, by auditID. Only complete lines are read: the server may be writing the
 * last one. A complete line that is not an audit event is an error naming it,
 * never skipped, so a wrong file cannot yield a count of zero.
 *
 * @public
 */
export function parseAuditLines(text: string, firstLine = 1): AuditedRequest[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const byId = new Map<string, AuditedRequest>();
  complete.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let event: any;
    try {
      event = JSON.parse(line);
    } catch {
      throw new Error(
        `audit log line ${
          firstLine + index
        } is not JSON (is --audit-log-format=json set?): ${line.slice(0, 80)}`,
      );
    }
    if (event?.kind !== 'Event' || typeof event.auditID !== 'string') {
      throw new Error(
        `audit log line ${
          firstLine + index
        } is not an audit.k8s.io Event: ${line.slice(0, 80)}`,
      );
    }
    if (byId.has(event.auditID)) return;
    const ref = event.objectRef ?? {};
    byId.set(event.auditID, {
      auditID: event.auditID,
      verb: event.verb,
      username: event.user?.username ?? '',
      requestURI: event.requestURI,
      resource: ref.resource
        ? `${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}`
        : undefined,
      namespace: ref.namespace,
      name: ref.name,
      code: event.responseStatus?.code,
      userAgent: event.userAgent,
      receivedAt: new Date(event.requestReceivedTimestamp),
    });
  });
  return [...byId.values()];
}

/** Counts requests per key, e.g. `countBy(requests, r => r.verb)`. @public */
export function countBy(
  requests: readonly AuditedRequest[],
  key: (r: AuditedRequest) => string,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    const k = key(r);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/**
 * Reads what the API server logged between two points in time: `mark()` the
 * current end of the log, act, then `requestsSince(mark)`. The local control
 * plane (platform/cluster.sh) writes the log in blocking mode; a request's
 * final stage can still land a moment after its response, so callers that
 * expect nothing wait `settleMs` first.
 *
 * @public
 */
export class ApiServerAuditLog {
  constructor(readonly path: string) {
    if (!fs.existsSync(path)) {
      throw new Error(
        `API server audit log ${path} does not exist; start the API server with --audit-log-path (platform/cluster.sh does) and set KUBE_AUDIT_LOG to it`,
      );
    }
  }

  /** From the KUBE_AUDIT_LOG environment variable, if set. */
  static fromEnv(): ApiServerAuditLog | undefined {
    const path = process.env.KUBE_AUDIT_LOG;
    return path ? new ApiServerAuditLog(path) : undefined;
  }

  mark(): number {
    return fs.statSync(this.path).size;
  }

  async requestsSince(
    mark: number,
    options: { settleMs?: number } = {},
  ): Promise<AuditedRequest[]> {
    if (options.settleMs) {
      await new Promise(r => setTimeout(r, options.settleMs));
    }
    const size = fs.statSync(this.path).size;
    if (size < mark) {
      throw new Error(
        `API server audit log ${this.path} shrank (rotated?) from ${mark} to ${size} bytes; cannot count requests across a rotation`,
      );
    }
    const fd = fs.openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(size - mark);
      fs.readSync(fd, buffer, 0, buffer.length, mark);
      return parseAuditLines(buffer.toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  }
}
