/**
 * One Backstage auditor event as a portal replica records it: the default
 * auditor (WinstonRootAuditorService of @backstage/backend-defaults) writes each
 * event as a JSON line with `isAuditEvent: true` to the replica's output, once
 * when the event starts (`initiated`) and once when it ends.
 */
export interface AuditorEvent {
  plugin: string;
  eventId: string;
  status: 'initiated' | 'succeeded' | 'failed';
  severityLevel?: string;
  meta: Record<string, unknown>;
}

/**
 * The auditor events in a replica's log. The log also holds plain lines (the
 * CLI's, start-up messages) and other JSON log lines; only JSON objects marked
 * `isAuditEvent` count. A marked line without an event id or status is an
 * error naming it: a changed format must not read as "no events".
 */
export function parseAuditorEvents(logText: string): AuditorEvent[] {
  const events: AuditorEvent[] = [];
  logText.split('\n').forEach((line, index) => {
    const text = line.trim();
    if (!text.startsWith('{')) return;
    let record: any;
    try {
      record = JSON.parse(text);
    } catch {
      return;
    }
    if (record?.isAuditEvent !== true) return;
    if (
      typeof record.eventId !== 'string' ||
      typeof record.status !== 'string'
    ) {
      throw new Error(
        `log line ${
          index + 1
        } is marked isAuditEvent but has no eventId or status: ${text.slice(
          0,
          120,
        )}`,
      );
    }
    events.push({
      plugin: record.plugin,
      eventId: record.eventId,
      status: record.status,
      severityLevel: record.severityLevel,
      meta: record.meta ?? {},
    });
  });
  return events;
}

/** Events of one plugin and event id that reached `status`. */
export function eventsOf(
  events: readonly AuditorEvent[],
  plugin: string,
  eventId: string,
  status: AuditorEvent['status'],
): AuditorEvent[] {
  return events.filter(
    e => e.plugin === plugin && e.eventId === eventId && e.status === status,
  );
}
