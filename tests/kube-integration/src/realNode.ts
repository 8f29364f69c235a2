/*
 * Helpers for tests that run real containers on the local cluster's real nodes
 * (platform/cluster.sh with NODES>=1): the test image, pod templates, kubectl, and
 * plain HTTP from the host (the host routes pod, Service and LoadBalancer addresses to
 * the nodes).
 */
import { V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import {
  Clients,
  col,
  isPodReady,
  REAL_NODE_LABEL,
  RESTRICTED_CONTAINER_SECURITY,
  RESTRICTED_POD_SECURITY,
  waitForObject,
} from './kube';

/** Real nodes the test run expects (scripts/test-kube-integration.sh sets it). */
export const expectedRealNodes = Number(process.env.KUBE_REAL_NODES ?? '0');

/**
 * The busybox image (platform/images/build.sh busybox), imported into every real node
 * by scripts/test-kube-integration.sh.
 */
export function testImage(): string {
  const image = process.env.KUBE_TEST_IMAGE;
  if (!image) {
    throw new Error(
      'KUBE_TEST_IMAGE is not set: run scripts/test-kube-integration.sh (it builds the ' +
        'busybox test image and imports it into the nodes), or import ' +
        '"$(platform/images/build.sh busybox)" yourself with ' +
        '`platform/cluster.sh images import` and export KUBE_TEST_IMAGE',
    );
  }
  return image;
}

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** Pod spec that passes Pod Security "restricted" and runs on a real node. */
export function realPodSpec(
  command: string[],
  extra: Partial<V1PodSpec> = {},
): V1PodSpec {
  const [key, value] = REAL_NODE_LABEL.split('=');
  return {
    automountServiceAccountToken: false,
    nodeSelector: { [key]: value },
    // busybox sleep ignores SIGTERM as PID 1; nothing to drain here.
    terminationGracePeriodSeconds: 1,
    securityContext: { ...RESTRICTED_POD_SECURITY, runAsGroup: 10001 },
    containers: [
      {
        name: 'main',
        image: testImage(),
        command,
        resources: {
          requests: { cpu: '10m', memory: '16Mi' },
          limits: { cpu: '200m', memory: '32Mi' },
        },
        securityContext: { ...RESTRICTED_CONTAINER_SECURITY },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Mi' } }],
    ...extra,
  };
}

export const WEB_PORT = 8080;

/** An HTTP server that answers every GET with its pod's name (busybox httpd). */
export function webPodSpec(extra: Partial<V1PodSpec> = {}): V1PodSpec {
  const spec = realPodSpec(
    [
      'sh',
      '-c',
      `mkdir -p /tmp/www && hostname > /tmp/www/index.html && echo "serving $(hostname)" && exec httpd -f -v -p ${WEB_PORT} -h /tmp/www`,
    ],
    extra,
  );
  spec.containers[0].ports = [{ name: 'http', containerPort: WEB_PORT }];
  spec.containers[0].readinessProbe = {
    httpGet: { path: '/', port: 'http' as any },
    periodSeconds: 1,
  };
  return spec;
}

/** A pod that only waits, for `kubectl exec` into it. */
export function clientPodSpec(): V1PodSpec {
  return realPodSpec(['sleep', '3600']);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl (never throws on a non-zero exit; the caller asserts the code). */
export function kubectl(args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise(resolve => {
    execFile(
      KUBECTL,
      args,
      { timeout: timeoutMs, env: process.env },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** wget from inside a pod (busybox; the timeout bounds a blocked connection). */
export function wgetFromPod(
  namespace: string,
  pod: string,
  url: string,
  seconds = 3,
): Promise<Run> {
  return kubectl([
    '-n',
    namespace,
    'exec',
    pod,
    '--',
    'timeout',
    String(seconds),
    'wget',
    '-qO-',
    url,
  ]);
}

/** GET from the host; resolves with status and body, rejects on timeout or error. */
export function httpGet(
  url: string,
  timeoutMs = 3000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, res => {
      const chunks: Buffer[] = [];
      res.on('data', d => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
  });
}

/** Retries fn until it returns without throwing, or throws its last error at the deadline. */
export async function eventually<T>(
  fn: () => Promise<T>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() + intervalMs > deadline) throw e;
      await new Promise(r => setTimeout(r, intervalMs));
    }
  }
}

/** True if ip (dotted IPv4) lies in cidr. */
export function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) =>
    a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const [net, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(net) / size);
}

/**
 * Prints lines of measurements and, when KUBE_TIMINGS_FILE is set
 * (scripts/test-kube-integration.sh sets it), appends them there so the script prints
 * them with the cluster's timings.
 */
export function recordLines(lines: string[]): void {
  // eslint-disable-next-line no-console
  console.log(lines.join('\n'));
  if (process.env.KUBE_TIMINGS_FILE) {
    fs.appendFileSync(
      process.env.KUBE_TIMINGS_FILE,
      lines.map(line => `${line}\n`).join(''),
    );
  }
}

/** Records one measurement ("what: N ms (detail)"), see recordLines. */
export function recordTiming(what: string, ms: number, detail = ''): void {
  recordLines([`${what}: ${ms} ms${detail ? ` (${detail})` : ''}`]);
}

/** Creates the pod and resolves once it is Ready, with the time that took. */
export async function createPodUntilReady(
  c: Clients,
  namespace: string,
  body: V1Pod,
  timeoutMs = 60_000,
): Promise<{ pod: any; ms: number }> {
  const name = body.metadata!.name!;
  const t0 = Date.now();
  // Watch first, so the Ready update cannot be missed.
  const ready = waitForObject(
    col.pods(namespace),
    name,
    isPodReady,
    timeoutMs,
    `pod ${name} to become Ready`,
  );
  await c.core.createNamespacedPod({ namespace, body });
  const pod = await ready;
  return { pod, ms: Date.now() - t0 };
}
