import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiServerAuditLog,
  WRITE_VERBS,
  countBy,
  parseAuditLines,
} from './ApiServerAuditLog';

function event(overrides: Record<string, unknown>) {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'a1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/demo/services/web',
    verb: 'patch',
    user: { username: 'system:serviceaccount:portal:backstage' },
    objectRef: {
      resource: 'services',
      namespace: 'demo',
      name: 'web',
      apiVersion: 'v1',
    },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: '2026-11-28T04:00:00.000000Z',
    ...overrides,
  });
}

describe('parseAuditLines', () => {
  it('reads who did what to which object', () => {
    const [r] = parseAuditLines(`${event({})}\n`);
    expect(r).toEqual({
      auditID: 'a1',
      verb: 'patch',
      username: 'system:serviceaccount:portal:backstage',
      requestURI: '/api/v1/namespaces/demo/services/web',
      resource: 'services',
      namespace: 'demo',
      name: 'web',
      code: 200,
      userAgent: undefined,
      receivedAt: new Date('2026-11-28T04:00:00Z'),
    });
    expect(WRITE_VERBS.has(r.verb)).toBe(true);
  });

  it('counts a request logged at two stages once', () => {
    const watch = { auditID: 'w1', verb: 'watch' };
    const text = [
      event({ ...watch, stage: 'ResponseStarted' }),
      event({ auditID: 'g1', verb: 'get' }),
      event({ ...watch, stage: 'ResponseComplete' }),
    ].join('\n');
    expect(countBy(parseAuditLines(`${text}\n`), r => r.verb)).toEqual({
      watch: 1,
      get: 1,
    });
  });

  it('names subresources and leaves non-resource URLs without a resource', () => {
    const requests = parseAuditLines(
      [
        event({
          auditID: 's1',
          objectRef: {
            resource: 'deployments',
            subresource: 'scale',
            name: 'x',
          },
        }),
        event({ auditID: 'n1', objectRef: undefined, requestURI: '/version' }),
        '',
      ].join('\n'),
    );
    expect(requests.map(r => r.resource)).toEqual([
      'deployments/scale',
      undefined,
    ]);
  });

  it('ignores the line the server is still writing', () => {
    const partial = event({ auditID: 'p1' }).slice(0, 40);
    expect(parseAuditLines(`${event({})}\n${partial}`)).toHaveLength(1);
    expect(parseAuditLines(partial)).toEqual([]);
  });

  it('fails on a file that is not a JSON audit log instead of counting zero', () => {
    expect(() =>
      parseAuditLines('I1128 04:00:00 apiserver started\n', 7),
    ).toThrow(/line 7 is not JSON .*--audit-log-format=json/);
    expect(() => parseAuditLines('{"kind":"Status"}\n')).toThrow(
      /line 1 is not an audit.k8s.io Event/,
    );
  });
});

describe('ApiServerAuditLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns only what was logged after the mark', async () => {
    const file = path.join(dir, 'audit.log');
    fs.writeFileSync(file, `${event({ auditID: 'before' })}\n`);
    const log = new ApiServerAuditLog(file);
    const mark = log.mark();
    fs.appendFileSync(file, `${event({ auditID: 'after' })}\n`);
    const requests = await log.requestsSince(mark, { settleMs: 1 });
    expect(requests.map(r => r.auditID)).toEqual(['after']);
  });

  it('says how to get an audit log when there is none', () => {
    expect(() => new ApiServerAuditLog(path.join(dir, 'missing.log'))).toThrow(
      /--audit-log-path .*KUBE_AUDIT_LOG/,
    );
  });

  it('refuses to count across a log rotation', async () => {
    const file = path.join(dir, 'audit.log');
    fs.writeFileSync(file, `${event({})}\n${event({ auditID: 'a2' })}\n`);
    const log = new ApiServerAuditLog(file);
    const mark = log.mark();
    fs.writeFileSync(file, '');
    await expect(log.requestsSince(mark)).rejects.toThrow(
      /shrank \(rotated\?\)/,
    );
  });
});
