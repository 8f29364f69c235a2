import { eventsOf, parseAuditorEvents } from './auditorEvents';

const auditLine = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'info',
    message: `${fields.plugin}.${fields.eventId}`,
    service: 'backstage',
    isAuditEvent: true,
    severityLevel: 'medium',
    ...fields,
  });

describe('parseAuditorEvents', () => {
  it('reads the auditor lines of a replica log and skips everything else', () => {
    const log = [
      'Loaded config from app-config.yaml, app-config.production.yaml',
      JSON.stringify({ level: 'info', message: 'Listening on :7007' }),
      auditLine({
        plugin: 'rollouts',
        eventId: 'traffic-switch',
        status: 'initiated',
        meta: { entityRef: 'component:default/demo' },
      }),
      '{ not json',
      auditLine({
        plugin: 'rollouts',
        eventId: 'traffic-switch',
        status: 'succeeded',
        meta: { request: { targetSlot: 'green' } },
      }),
      '',
    ].join('\n');
    expect(parseAuditorEvents(log)).toEqual([
      {
        plugin: 'rollouts',
        eventId: 'traffic-switch',
        status: 'initiated',
        severityLevel: 'medium',
        meta: { entityRef: 'component:default/demo' },
      },
      {
        plugin: 'rollouts',
        eventId: 'traffic-switch',
        status: 'succeeded',
        severityLevel: 'medium',
        meta: { request: { targetSlot: 'green' } },
      },
    ]);
  });

  it('refuses an auditor line without event id or status instead of dropping it', () => {
    const log = JSON.stringify({ isAuditEvent: true, message: 'x' });
    expect(() => parseAuditorEvents(log)).toThrow(
      /log line 1 is marked isAuditEvent but has no eventId or status/,
    );
  });
});

describe('eventsOf', () => {
  it('selects by plugin, event id and status', () => {
    const events = parseAuditorEvents(
      [
        auditLine({
          plugin: 'rollouts',
          eventId: 'traffic-switch',
          status: 'initiated',
        }),
        auditLine({
          plugin: 'rollouts',
          eventId: 'traffic-switch',
          status: 'succeeded',
        }),
        auditLine({
          plugin: 'rollouts',
          eventId: 'traffic-scale-down',
          status: 'succeeded',
        }),
        auditLine({
          plugin: 'catalog',
          eventId: 'traffic-switch',
          status: 'succeeded',
        }),
      ].join('\n'),
    );
    expect(
      eventsOf(events, 'rollouts', 'traffic-switch', 'succeeded'),
    ).toHaveLength(1);
    expect(
      eventsOf(events, 'rollouts', 'traffic-scale-down', 'initiated'),
    ).toHaveLength(0);
  });
});
