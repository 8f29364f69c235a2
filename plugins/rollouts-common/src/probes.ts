import {
  IntOrString,
  KubeContainer,
  KubeContainerState,
  KubePod,
  KubePodTemplateSpec,
  KubeProbe,
} from './kube';

/** @public */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** @public */
export type ProbeHandler = 'httpGet' | 'tcpSocket' | 'exec' | 'grpc' | 'none';

/** Probe timings with the Kubernetes defaults filled in. @public */
export interface ProbeTimings {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** Defaults the API server applies to probe fields left out. @public */
export const PROBE_DEFAULTS: ProbeTimings = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
};

/** @public */
export interface ProbeInfo {
  kind: ProbeKind;
  handler: ProbeHandler;
  /** Human-readable target, e.g. `GET http://:8000/health`. */
  target: string;
  /** Port number after resolving a named port, when it could be resolved. */
  port?: number;
  /** Port as written (number or container port name). */
  portSpec?: IntOrString;
  path?: string;
  scheme?: string;
  command?: string[];
  grpcService?: string;
  timings: ProbeTimings;
  /** Timing fields the manifest left out (so the default applies). */
  defaulted: (keyof ProbeTimings)[];
  /**
   * Worst case, in seconds:
   * liveness: `initialDelay + period × failureThreshold` until a hung
   * container is declared dead and restarted;
   * readiness: `initialDelay + period × successThreshold` until a healthy
   * container is marked ready;
   * startup: `initialDelay + period × failureThreshold`, the start-up budget
   * before the container is killed.
   */
  worstCaseSeconds: number;
  /** Readiness only: seconds a broken pod keeps receiving traffic (`period × failureThreshold`). */
  unreadyAfterSeconds?: number;
}

/** @public */
export type FindingSeverity = 'error' | 'warning' | 'info';

/** @public */
export interface Finding {
  code: string;
  severity: FindingSeverity;
  container: string;
  /** Pod name for findings taken from live pod status. */
  pod?: string;
  message: string;
}

/** @public */
export interface ContainerProbeAnalysis {
  container: string;
  probes: ProbeInfo[];
  findings: Finding[];
}

/** @public */
export interface ProbeAnalysisOptions {
  /** Liveness `initialDelaySeconds` above this suggests a startup probe. Default 30. */
  longInitialDelaySeconds?: number;
}

function resolvePort(
  port: IntOrString | undefined,
  container: KubeContainer,
): number | undefined {
  if (port === undefined) {
    return undefined;
  }
  if (typeof port === 'number') {
    return port;
  }
  if (/^\d+$/.test(port)) {
    return Number(port);
  }
  return container.ports?.find(p => p.name === port)?.containerPort;
}

function timingsOf(probe: KubeProbe): {
  timings: ProbeTimings;
  defaulted: (keyof ProbeTimings)[];
} {
  const timings = { ...PROBE_DEFAULTS };
  const defaulted: (keyof ProbeTimings)[] = [];
  for (const key of Object.keys(PROBE_DEFAULTS) as (keyof ProbeTimings)[]) {
    const value = probe[key];
    if (typeof value === 'number') {
      timings[key] = value;
    } else {
      defaulted.push(key);
    }
  }
  return { timings, defaulted };
}

/**
 * Describes one probe: handler, target and timings with defaults applied.
 *
 * @public
 */
export function describeProbe(
  kind: ProbeKind,
  probe: KubeProbe,
  container: KubeContainer,
): ProbeInfo {
  const { timings, defaulted } = timingsOf(probe);
  const { initialDelaySeconds, periodSeconds, successThreshold } = timings;
  const worstCaseSeconds =
    kind === 'readiness'
      ? initialDelaySeconds + periodSeconds * successThreshold
      : initialDelaySeconds + periodSeconds * timings.failureThreshold;
  const base = {
    kind,
    timings,
    defaulted,
    worstCaseSeconds,
    ...(kind === 'readiness' && {
      unreadyAfterSeconds: periodSeconds * timings.failureThreshold,
    }),
  };

  if (probe.httpGet) {
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toUpperCase();
    const path = probe.httpGet.path || '/';
    const port = resolvePort(probe.httpGet.port, container);
    const host = probe.httpGet.host ?? '';
    return {
      ...base,
      handler: 'httpGet',
      scheme,
      path,
      port,
      portSpec: probe.httpGet.port,
      target: `GET ${scheme.toLowerCase()}://${host}:${
        port ?? probe.httpGet.port
      }${path.startsWith('/') ? path : `/${path}`}`,
    };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, container);
    return {
      ...base,
      handler: 'tcpSocket',
      port,
      portSpec: probe.tcpSocket.port,
      target: `TCP :${port ?? probe.tcpSocket.port}`,
    };
  }
  if (probe.grpc) {
    return {
      ...base,
      handler: 'grpc',
      port: probe.grpc.port,
      portSpec: probe.grpc.port,
      grpcService: probe.grpc.service ?? '',
      target: `gRPC :${probe.grpc.port}${
        probe.grpc.service ? ` service ${probe.grpc.service}` : ''
      }`,
    };
  }
  if (probe.exec) {
    const command = probe.exec.command ?? [];
    return {
      ...base,
      handler: 'exec',
      command,
      target: `exec ${command.join(' ')}`,
    };
  }
  return { ...base, handler: 'none', target: 'no handler' };
}

/** Key under which two probes hit the same endpoint. */
function endpointKey(info: ProbeInfo): string | undefined {
  switch (info.handler) {
    case 'httpGet':
      return `http|${info.scheme}|${info.port ?? info.portSpec}|${info.path}`;
    case 'tcpSocket':
      return `tcp|${info.port ?? info.portSpec}`;
    case 'grpc':
      return `grpc|${info.port}|${info.grpcService}`;
    case 'exec':
      return `exec|${JSON.stringify(info.command)}`;
    default:
      return undefined;
  }
}

/**
 * Analyses the probes of one container and explains what is risky.
 *
 * @public
 */
export function analyzeContainerProbes(
  container: KubeContainer,
  options: ProbeAnalysisOptions = {},
): ContainerProbeAnalysis {
  const longDelay = options.longInitialDelaySeconds ?? 30;
  const name = container.name;
  const probes: ProbeInfo[] = [];
  const findings: Finding[] = [];
  const add = (code: string, severity: FindingSeverity, message: string) =>
    findings.push({ code, severity, container: name, message });

  const liveness = container.livenessProbe
    ? describeProbe('liveness', container.livenessProbe, container)
    : undefined;
  const readiness = container.readinessProbe
    ? describeProbe('readiness', container.readinessProbe, container)
    : undefined;
  const startup = container.startupProbe
    ? describeProbe('startup', container.startupProbe, container)
    : undefined;
  for (const p of [startup, liveness, readiness]) {
    if (p) probes.push(p);
  }

  if (!liveness) {
    add(
      'missing-liveness',
      'warning',
      'No liveness probe: a container that hangs without exiting is never restarted.',
    );
  }
  if (!readiness) {
    add(
      'missing-readiness',
      'warning',
      'No readiness probe: the pod gets traffic as soon as the process starts, before it can serve, and keeps getting it while it cannot.',
    );
  }
  if (liveness && readiness) {
    const key = endpointKey(liveness);
    if (key !== undefined && key === endpointKey(readiness)) {
      add(
        'liveness-same-as-readiness',
        'warning',
        `Liveness and readiness both check ${liveness.target}. When that check fails (for example because a dependency is down) every pod is restarted instead of only being taken out of the Service; give liveness a cheaper endpoint that only says "the process works".`,
      );
    }
  }
  if (
    liveness &&
    !startup &&
    liveness.timings.initialDelaySeconds > longDelay
  ) {
    add(
      'liveness-long-initial-delay',
      'warning',
      `Liveness waits ${liveness.timings.initialDelaySeconds}s before its first check (more than ${longDelay}s). That delay applies after every restart too, so a container that hangs early goes unnoticed for that long; a startup probe covers slow starts and lets liveness start at once.`,
    );
  }
  for (const p of probes) {
    if (p.timings.timeoutSeconds >= p.timings.periodSeconds) {
      add(
        'timeout-not-below-period',
        'warning',
        `The ${p.kind} probe's timeoutSeconds (${p.timings.timeoutSeconds}) is not below its periodSeconds (${p.timings.periodSeconds}): a slow check is still running when the next one is due, so failures pile up and detection is slower than the settings suggest.`,
      );
    }
    if (
      p.portSpec !== undefined &&
      p.port === undefined &&
      typeof p.portSpec === 'string'
    ) {
      add(
        'unknown-named-port',
        'error',
        `The ${p.kind} probe uses port '${p.portSpec}', which is not a named port of container '${name}'; the probe can never succeed.`,
      );
    }
  }
  return { container: name, probes, findings };
}

/**
 * Analyses the probes of every (regular) container of a pod template.
 *
 * @public
 */
export function analyzePodTemplateProbes(
  template: KubePodTemplateSpec | undefined,
  options?: ProbeAnalysisOptions,
): ContainerProbeAnalysis[] {
  return (template?.spec?.containers ?? []).map(c =>
    analyzeContainerProbes(c, options),
  );
}

/** Live health of one container from pod status. @public */
export interface ContainerHealth {
  pod: string;
  container: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  waitingReason?: string;
  waitingMessage?: string;
  lastTerminationReason?: string;
  lastExitCode?: number;
  /** Last termination was the kernel OOM killer (reason OOMKilled). */
  oomKilled: boolean;
}

function containerState(
  state: KubeContainerState | undefined,
): ContainerHealth['state'] {
  if (state?.running) return 'running';
  if (state?.waiting) return 'waiting';
  if (state?.terminated) return 'terminated';
  return 'unknown';
}

/** @public */
export interface PodHealth {
  pod: string;
  phase?: string;
  ready: boolean;
  nodeName?: string;
  containers: ContainerHealth[];
  findings: Finding[];
}

/**
 * Reads the live health of a pod's containers and points out crash loops, OOM
 * kills and SIGKILLs (exit code 137).
 *
 * @public
 */
export function podHealth(pod: KubePod): PodHealth {
  const podName = pod.metadata?.name ?? '';
  const findings: Finding[] = [];
  const containers: ContainerHealth[] = (
    pod.status?.containerStatuses ?? []
  ).map(cs => {
    const state = containerState(cs.state);
    const last = cs.lastState?.terminated ?? cs.state?.terminated;
    const health: ContainerHealth = {
      pod: podName,
      container: cs.name,
      ready: cs.ready,
      started: cs.started,
      restartCount: cs.restartCount ?? 0,
      state,
      waitingReason: cs.state?.waiting?.reason,
      waitingMessage: cs.state?.waiting?.message,
      lastTerminationReason: last?.reason,
      lastExitCode: last?.exitCode,
      oomKilled: last?.reason === 'OOMKilled',
    };
    const add = (code: string, severity: FindingSeverity, message: string) =>
      findings.push({
        code,
        severity,
        container: cs.name,
        pod: podName,
        message,
      });
    if (health.waitingReason === 'CrashLoopBackOff') {
      add(
        'crash-loop',
        'error',
        `Container keeps exiting and the kubelet waits longer before each restart (${health.restartCount} restarts so far).`,
      );
    } else if (
      health.waitingReason === 'ImagePullBackOff' ||
      health.waitingReason === 'ErrImagePull'
    ) {
      add(
        'image-pull',
        'error',
        `The image cannot be pulled: ${
          health.waitingMessage ?? health.waitingReason
        }.`,
      );
    }
    if (health.oomKilled) {
      add(
        'oom-killed',
        'error',
        `Last run was killed for using more memory than its limit (OOMKilled, exit code ${
          health.lastExitCode ?? 137
        }); raise the memory limit or reduce usage.`,
      );
    } else if (health.lastExitCode === 137) {
      add(
        'sigkill',
        'warning',
        `Last run ended with exit code 137 (SIGKILL, reason ${
          health.lastTerminationReason ?? 'unknown'
        }): killed by a failed liveness probe after the grace period, or by the node running out of memory.`,
      );
    }
    if (state === 'running' && !cs.ready) {
      add(
        'not-ready',
        'warning',
        'Container is running but its readiness probe does not pass, so the pod gets no Service traffic.',
      );
    }
    return health;
  });
  const readyCondition = pod.status?.conditions?.find(c => c.type === 'Ready');
  return {
    pod: podName,
    phase: pod.status?.phase,
    ready: readyCondition?.status === 'True',
    nodeName: pod.spec?.nodeName,
    containers,
    findings,
  };
}
