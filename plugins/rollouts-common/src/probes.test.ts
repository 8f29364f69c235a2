import { KubeContainer, KubePod } from './kube';
import {
  analyzeContainerProbes,
  analyzePodTemplateProbes,
  podHealth,
} from './probes';
import { demoDeployment } from './testFixtures';

const codes = (findings: { code: string }[]) =>
  findings.map(f => f.code).sort();

describe('analyzeContainerProbes', () => {
  it('describes the demo container and finds nothing wrong', () => {
    const [api] = analyzePodTemplateProbes(
      demoDeployment('blue').spec!.template,
    );
    expect(api.findings).toEqual([]);
    const byKind = Object.fromEntries(api.probes.map(p => [p.kind, p]));
    expect(byKind.liveness).toMatchObject({
      handler: 'httpGet',
      scheme: 'HTTP',
      path: '/health',
      port: 8000,
      portSpec: 'http',
      target: 'GET http://:8000/health',
      // 0 + 10 × 3
      worstCaseSeconds: 30,
    });
    expect(byKind.readiness).toMatchObject({
      path: '/ready',
      // 0 + 5 × 1 to become ready, 5 × 3 to drop out
      worstCaseSeconds: 5,
      unreadyAfterSeconds: 15,
    });
    // start-up budget: 0 + 2 × 30
    expect(byKind.startup.worstCaseSeconds).toBe(60);
  });

  it('fills in defaults and says which fields were defaulted', () => {
    const container: KubeContainer = {
      name: 'worker',
      livenessProbe: { tcpSocket: { port: 5432 } },
      readinessProbe: { exec: { command: ['pg_isready', '-q'] } },
    };
    const { probes } = analyzeContainerProbes(container);
    const liveness = probes.find(p => p.kind === 'liveness')!;
    expect(liveness.timings).toEqual({
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(liveness.defaulted).toHaveLength(5);
    expect(liveness.target).toBe('TCP :5432');
    expect(liveness.worstCaseSeconds).toBe(30);
    expect(probes.find(p => p.kind === 'readiness')!.target).toBe(
      'exec pg_isready -q',
    );
  });

  it('describes gRPC probes', () => {
    const { probes, findings } = analyzeContainerProbes({
      name: 'grpc',
      livenessProbe: { grpc: { port: 9090 }, initialDelaySeconds: 5 },
      readinessProbe: { grpc: { port: 9090, service: 'readiness' } },
    });
    expect(probes.map(p => p.target)).toEqual([
      'gRPC :9090',
      'gRPC :9090 service readiness',
    ]);
    expect(probes[0].worstCaseSeconds).toBe(35);
    // different gRPC service names are different endpoints
    expect(codes(findings)).toEqual([]);
  });

  it('flags missing liveness and readiness probes', () => {
    const { findings } = analyzeContainerProbes({ name: 'app', image: 'x' });
    expect(codes(findings)).toEqual(['missing-liveness', 'missing-readiness']);
    expect(findings[0].message).toMatch(/never restarted/);
  });

  it('flags liveness and readiness hitting the same endpoint, also via named port', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    });
    expect(codes(findings)).toEqual(['liveness-same-as-readiness']);
    expect(findings[0].message).toContain('GET http://:8080/healthz');
  });

  it('does not flag different paths on the same port', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      livenessProbe: { httpGet: { path: '/livez', port: 8080 } },
      readinessProbe: { httpGet: { path: '/readyz', port: 8080 } },
    });
    expect(findings).toEqual([]);
  });

  it('suggests a startup probe for a long liveness initial delay', () => {
    const container: KubeContainer = {
      name: 'slow',
      livenessProbe: {
        httpGet: { path: '/live', port: 8000 },
        initialDelaySeconds: 120,
      },
      readinessProbe: { httpGet: { path: '/ready', port: 8000 } },
    };
    const { findings, probes } = analyzeContainerProbes(container);
    expect(codes(findings)).toEqual(['liveness-long-initial-delay']);
    expect(probes[0].worstCaseSeconds).toBe(150);
    // With a startup probe the delay is not the only start-up protection.
    container.startupProbe = { httpGet: { path: '/live', port: 8000 } };
    expect(analyzeContainerProbes(container).findings).toEqual([]);
    // The threshold is configurable.
    delete container.startupProbe;
    expect(
      analyzeContainerProbes(container, { longInitialDelaySeconds: 300 })
        .findings,
    ).toEqual([]);
  });

  it('flags timeoutSeconds >= periodSeconds', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      livenessProbe: {
        httpGet: { path: '/live', port: 8000 },
        periodSeconds: 5,
        timeoutSeconds: 5,
      },
      readinessProbe: {
        httpGet: { path: '/ready', port: 8000 },
        periodSeconds: 5,
        timeoutSeconds: 4,
      },
    });
    expect(codes(findings)).toEqual(['timeout-not-below-period']);
    expect(findings[0].message).toMatch(
      /liveness probe's timeoutSeconds \(5\)/,
    );
  });

  it('flags a named port the container does not declare', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      ports: [{ name: 'web', containerPort: 8000 }],
      livenessProbe: { httpGet: { path: '/live', port: 'http' } },
      readinessProbe: { httpGet: { path: '/ready', port: 'web' } },
    });
    expect(codes(findings)).toEqual(['unknown-named-port']);
  });
});

describe('podHealth', () => {
  const pod = (
    containerStatuses: NonNullable<KubePod['status']>['containerStatuses'],
  ): KubePod => ({
    metadata: { name: 'demo-api-green-5f9c-abcde', namespace: 'fastapi-demo' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses,
    },
  });

  it('reports a crash loop after OOM kills', () => {
    const health = podHealth(
      pod([
        {
          name: 'api',
          ready: false,
          started: false,
          restartCount: 7,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message:
                'back-off 5m0s restarting failed container=api pod=demo-api-green-5f9c-abcde',
            },
          },
          lastState: {
            terminated: {
              exitCode: 137,
              reason: 'OOMKilled',
              startedAt: '2026-11-20T10:01:00Z',
              finishedAt: '2026-11-20T10:01:09Z',
            },
          },
        },
      ]),
    );
    expect(health.ready).toBe(false);
    expect(health.containers[0]).toMatchObject({
      state: 'waiting',
      waitingReason: 'CrashLoopBackOff',
      restartCount: 7,
      lastTerminationReason: 'OOMKilled',
      lastExitCode: 137,
      oomKilled: true,
    });
    expect(codes(health.findings)).toEqual(['crash-loop', 'oom-killed']);
  });

  it('tells a SIGKILL that is not an OOM kill apart', () => {
    const health = podHealth(
      pod([
        {
          name: 'api',
          ready: true,
          started: true,
          restartCount: 1,
          state: { running: { startedAt: '2026-11-20T10:02:00Z' } },
          lastState: { terminated: { exitCode: 137, reason: 'Error' } },
        },
      ]),
    );
    expect(health.containers[0].oomKilled).toBe(false);
    expect(codes(health.findings)).toEqual(['sigkill']);
  });

  it('reports running-but-not-ready and image pull failures', () => {
    const health = podHealth(
      pod([
        {
          name: 'api',
          ready: false,
          started: true,
          restartCount: 0,
          state: { running: {} },
        },
        {
          name: 'sidecar',
          ready: false,
          restartCount: 0,
          state: {
            waiting: {
              reason: 'ImagePullBackOff',
              message: 'Back-off pulling image "ghcr.io/example/sidecar:9"',
            },
          },
        },
      ]),
    );
    expect(codes(health.findings)).toEqual(['image-pull', 'not-ready']);
  });

  it('is quiet for a healthy pod', () => {
    const health = podHealth({
      metadata: { name: 'ok' },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'api',
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: {} },
          },
        ],
      },
    });
    expect(health.ready).toBe(true);
    expect(health.findings).toEqual([]);
  });
});
