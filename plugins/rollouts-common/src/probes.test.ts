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

  it('resolves numeric, quoted and named ports, paths and handlers as the kubelet does', () => {
    const container: KubeContainer = {
      name: 'api',
      ports: [
        { containerPort: 9000 },
        { name: 'h2', containerPort: 8081 },
        { name: 'pg', containerPort: 5432 },
        // A port name may start with digits; it is still a name.
        { name: '9090-metrics', containerPort: 9090 },
      ],
    };
    const target = (probe: KubeContainer['livenessProbe']) =>
      analyzeContainerProbes({ ...container, livenessProbe: probe }).probes[0];
    expect(target({ httpGet: { port: '8080' } })).toMatchObject({
      port: 8080,
      path: '/',
      target: 'GET http://:8080/',
    });
    expect(target({ httpGet: { path: 'live', port: 'h2' } })).toMatchObject({
      port: 8081,
      target: 'GET http://:8081/live',
    });
    // What the API server would reject, as read from JSON: no port at all.
    const noPort = JSON.parse('{ "httpGet": { "path": "/live" } }');
    expect(target(noPort).port).toBeUndefined();
    expect(
      target({ httpGet: { path: '/m', port: '9090-metrics' } }),
    ).toMatchObject({
      port: 9090,
    });
    expect(target({ tcpSocket: { port: 'pg' } })).toMatchObject({
      handler: 'tcpSocket',
      port: 5432,
      target: 'TCP :5432',
    });
    expect(target({ grpc: { port: 9090 } })).toMatchObject({
      handler: 'grpc',
      grpcService: '',
    });
    expect(target({ exec: {} })).toMatchObject({
      handler: 'exec',
      command: [],
      target: 'exec ',
    });
    expect(target({ periodSeconds: 5 })).toStrictEqual({
      kind: 'liveness',
      timings: {
        initialDelaySeconds: 0,
        periodSeconds: 5,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
      defaulted: [
        'initialDelaySeconds',
        'timeoutSeconds',
        'successThreshold',
        'failureThreshold',
      ],
      worstCaseSeconds: 15,
      handler: 'none',
      target: 'no handler',
    });
  });

  it('times readiness by its success threshold', () => {
    const { probes } = analyzeContainerProbes({
      name: 'api',
      readinessProbe: {
        httpGet: { path: '/ready', port: 8000 },
        periodSeconds: 5,
        successThreshold: 2,
        failureThreshold: 4,
      },
    });
    expect(probes[0]).toMatchObject({
      worstCaseSeconds: 10,
      unreadyAfterSeconds: 20,
    });
  });

  it('flags missing liveness and readiness probes', () => {
    const { findings } = analyzeContainerProbes({ name: 'app', image: 'x' });
    expect(findings).toEqual([
      {
        code: 'missing-liveness',
        severity: 'warning',
        container: 'app',
        message:
          'No liveness probe: a container that hangs without exiting is never restarted.',
      },
      {
        code: 'missing-readiness',
        severity: 'warning',
        container: 'app',
        message:
          'No readiness probe: the pod gets traffic as soon as the process starts, before it can serve, and keeps getting it while it cannot.',
      },
    ]);
    const onlyLiveness = analyzeContainerProbes({
      name: 'app',
      livenessProbe: { tcpSocket: { port: 8000 } },
    });
    expect(codes(onlyLiveness.findings)).toEqual(['missing-readiness']);
  });

  it('flags TCP and exec probes that check the same thing, not two probes without a handler', () => {
    const same = (
      livenessProbe: KubeContainer['livenessProbe'],
      readinessProbe: KubeContainer['readinessProbe'],
    ) =>
      codes(
        analyzeContainerProbes({
          name: 'db',
          ports: [{ name: 'pg', containerPort: 5432 }],
          livenessProbe,
          readinessProbe,
        }).findings,
      );
    expect(
      same({ tcpSocket: { port: 'pg' } }, { tcpSocket: { port: 5432 } }),
    ).toEqual(['liveness-same-as-readiness']);
    expect(
      same({ tcpSocket: { port: 5432 } }, { tcpSocket: { port: 5433 } }),
    ).toEqual([]);
    expect(
      same(
        { exec: { command: ['pg_isready'] } },
        { exec: { command: ['pg_isready'] } },
      ),
    ).toEqual(['liveness-same-as-readiness']);
    expect(
      same(
        { exec: { command: ['true'] } },
        { exec: { command: ['pg_isready'] } },
      ),
    ).toEqual([]);
    expect(same({}, {})).toEqual([]);
    expect(same({ grpc: { port: 9090 } }, { grpc: { port: 9091 } })).toEqual(
      [],
    );
    expect(same({ grpc: { port: 9090 } }, { grpc: { port: 9090 } })).toEqual([
      'liveness-same-as-readiness',
    ]);
  });

  it('flags liveness and readiness hitting the same endpoint, also via named port', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    });
    expect(findings).toEqual([
      {
        code: 'liveness-same-as-readiness',
        severity: 'warning',
        container: 'api',
        message:
          'Liveness and readiness both check GET http://:8080/healthz. When that check fails (for example because a dependency is down) every pod is restarted instead of only being taken out of the Service; give liveness a cheaper endpoint that only says "the process works".',
      },
    ]);
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
    expect(findings).toEqual([
      {
        code: 'liveness-long-initial-delay',
        severity: 'warning',
        container: 'slow',
        message:
          'Liveness waits 120s before its first check (more than 30s). That delay applies after every restart too, so a container that hangs early goes unnoticed for that long; a startup probe covers slow starts and lets liveness start at once.',
      },
    ]);
    expect(probes[0].worstCaseSeconds).toBe(150);
    // With a startup probe the delay is not the only start-up protection.
    container.startupProbe = { httpGet: { path: '/live', port: 8000 } };
    expect(analyzeContainerProbes(container).findings).toEqual([]);
    // The threshold is configurable, and a delay at it is fine.
    delete container.startupProbe;
    container.livenessProbe!.initialDelaySeconds = 30;
    expect(analyzeContainerProbes(container).findings).toEqual([]);
    container.livenessProbe!.initialDelaySeconds = 120;
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
    expect(findings).toEqual([
      {
        code: 'timeout-not-below-period',
        severity: 'warning',
        container: 'api',
        message:
          "The liveness probe's timeoutSeconds (5) is not below its periodSeconds (5): a slow check is still running when the next one is due, so failures pile up and detection is slower than the settings suggest.",
      },
    ]);
  });

  it('flags a named port of a container that declares no ports', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      livenessProbe: { tcpSocket: { port: 'http' } },
      readinessProbe: { tcpSocket: { port: 8000 } },
    });
    expect(codes(findings)).toEqual(['unknown-named-port']);
  });

  it('flags a named port the container does not declare', () => {
    const { findings } = analyzeContainerProbes({
      name: 'api',
      ports: [{ name: 'web', containerPort: 8000 }],
      livenessProbe: { httpGet: { path: '/live', port: 'http' } },
      readinessProbe: { httpGet: { path: '/ready', port: 'web' } },
    });
    expect(findings).toEqual([
      {
        code: 'unknown-named-port',
        severity: 'error',
        container: 'api',
        message:
          "The liveness probe uses port 'http', which is not a named port of container 'api'; the probe can never succeed.",
      },
    ]);
  });
});

describe('analyzePodTemplateProbes', () => {
  it('has nothing to analyse without containers', () => {
    expect(analyzePodTemplateProbes(undefined)).toEqual([]);
    expect(analyzePodTemplateProbes({ metadata: {} })).toEqual([]);
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

  it('says what each finding means, with the numbers of the pod', () => {
    const health = podHealth({
      ...pod([
        {
          name: 'api',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          // A child process was OOM-killed; the main process exited on its own.
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 1 } },
        },
        {
          name: 'sidecar',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ErrImagePull' } },
        },
        {
          name: 'proxy',
          ready: false,
          restartCount: 0,
          state: {
            waiting: { reason: 'ImagePullBackOff', message: 'not found' },
          },
        },
        {
          name: 'job',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 137 } },
        },
        { name: 'new', ready: false, restartCount: 0 },
        { name: 'web', ready: false, restartCount: 0, state: { running: {} } },
      ]),
      spec: { containers: [], nodeName: 'node-2' },
    });
    const at = (
      container: string,
      code: string,
      severity: string,
      message: string,
    ) => ({
      code,
      severity,
      container,
      pod: 'demo-api-green-5f9c-abcde',
      message,
    });
    expect(health.findings).toEqual([
      at(
        'api',
        'crash-loop',
        'error',
        'Container keeps exiting and the kubelet waits longer before each restart (4 restarts so far).',
      ),
      at(
        'api',
        'oom-killed',
        'error',
        'Last run was killed for using more memory than its limit (OOMKilled, exit code 1); raise the memory limit or reduce usage.',
      ),
      at(
        'sidecar',
        'image-pull',
        'error',
        'The image cannot be pulled: ErrImagePull.',
      ),
      at(
        'proxy',
        'image-pull',
        'error',
        'The image cannot be pulled: not found.',
      ),
      at(
        'job',
        'sigkill',
        'warning',
        'Last run ended with exit code 137 (SIGKILL, reason unknown): killed by a failed liveness probe after the grace period, or by the node running out of memory.',
      ),
      at(
        'web',
        'not-ready',
        'warning',
        'Container is running but its readiness probe does not pass, so the pod gets no Service traffic.',
      ),
    ]);
    expect(
      health.containers.map(c => [c.container, c.state, c.restartCount]),
    ).toEqual([
      ['api', 'waiting', 4],
      ['sidecar', 'waiting', 0],
      ['proxy', 'waiting', 0],
      ['job', 'terminated', 0],
      ['new', 'unknown', 0],
      ['web', 'running', 0],
    ]);
    expect(health).toMatchObject({
      phase: 'Running',
      ready: false,
      nodeName: 'node-2',
    });
  });

  it('reads a pod without status as not ready and with nothing to say', () => {
    expect(podHealth({})).toStrictEqual({
      pod: '',
      phase: undefined,
      ready: false,
      nodeName: undefined,
      containers: [],
      findings: [],
    });
    expect(podHealth({ status: { phase: 'Pending' } }).ready).toBe(false);
    const onlyScheduled = podHealth({
      metadata: { name: 'p' },
      status: { conditions: [{ type: 'PodScheduled', status: 'True' }] },
    });
    expect(onlyScheduled.ready).toBe(false);
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
