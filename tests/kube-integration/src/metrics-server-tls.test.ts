/*
 * The API server verifies metrics-server's serving certificate instead of skipping the
 * check (upstream's manifests set insecureSkipTLSVerify): the APIService names the
 * cluster CA in caBundle and is Available, and the certificate metrics-server serves
 * verifies against that CA for the name the aggregator checks,
 * metrics-server.kube-system.svc. The same handshake fails against other CAs and for
 * another name, so the check cannot pass by default.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ApiregistrationV1Api } from '@kubernetes/client-node';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { Clients, clients, isPodReady } from './kube';
import { eventually, expectedRealNodes } from './realNode';

const APISERVICE = 'v1beta1.metrics.k8s.io';
const SERVING_NAME = 'metrics-server.kube-system.svc';
const SECURE_PORT = 10250;

/** 'verified', or why the TLS handshake failed (Node's error code). */
function handshake(
  host: string,
  ca: string | readonly string[],
  servername: string,
): Promise<string> {
  return new Promise(resolve => {
    const socket = tls.connect({
      host,
      port: SECURE_PORT,
      ca: ca as string | string[],
      servername,
      rejectUnauthorized: true,
      timeout: 5_000,
    });
    socket.once('secureConnect', () => {
      socket.end();
      resolve('verified');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('TIMEOUT');
    });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      resolve(e.code ?? e.message),
    );
  });
}

const describeReal = expectedRealNodes > 0 ? describe : describe.skip;

describeReal("metrics-server's serving certificate is verified", () => {
  let c: Clients;
  let clusterCa: string;
  let podIp: string;

  beforeAll(async () => {
    c = clients();
    const cluster = c.kc.getCurrentCluster()!;
    clusterCa = cluster.caData
      ? Buffer.from(cluster.caData, 'base64').toString()
      : fs.readFileSync(cluster.caFile!, 'utf8');
    podIp = await eventually(async () => {
      const pods = await c.core.listNamespacedPod({
        namespace: 'kube-system',
        labelSelector: 'k8s-app=metrics-server',
      });
      const ready = pods.items.find(isPodReady);
      if (!ready?.status?.podIP) throw new Error('no Ready metrics-server pod');
      return ready.status.podIP;
    }, 60_000);
  });

  it('the APIService names the cluster CA, skips nothing, and is Available', async () => {
    const api = c.kc.makeApiClient(ApiregistrationV1Api);
    const svc = await eventually(async () => {
      const s = await api.readAPIService({ name: APISERVICE });
      const available = s.status?.conditions?.find(x => x.type === 'Available');
      if (available?.status !== 'True') {
        throw new Error(`${APISERVICE} not Available: ${available?.message}`);
      }
      return s;
    }, 60_000);
    expect(svc.spec?.insecureSkipTLSVerify).toBeFalsy();
    expect(Buffer.from(svc.spec?.caBundle ?? '', 'base64').toString()).toBe(
      clusterCa,
    );
  });

  it('the served certificate verifies against the cluster CA for the Service name', async () => {
    expect(await handshake(podIp, clusterCa, SERVING_NAME)).toBe('verified');
  });

  it('and fails against other CAs, and for another name', async () => {
    const otherCas = await handshake(podIp, tls.rootCertificates, SERVING_NAME);
    expect(otherCas).not.toBe('verified');
    expect(otherCas).not.toBe('TIMEOUT');
    expect(
      await handshake(podIp, clusterCa, 'metrics-server.example.com'),
    ).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
