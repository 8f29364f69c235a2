import {
  KubeObject,
  SERVICE_NAME_LABEL,
} from '@internal/plugin-rollouts-common';
import { ResourceTypes, RolloutsCluster } from '../clusters/types';
import { EntitySelection, selects } from '../entitySelection';

/** Everything one cluster's cache holds for one entity. */
export interface EntityObjects {
  deployments: ResourceTypes['deployments'][];
  replicaSets: ResourceTypes['replicasets'][];
  pods: ResourceTypes['pods'][];
  services: ResourceTypes['services'][];
  endpointSlices: ResourceTypes['endpointslices'][];
  quotas: ResourceTypes['resourcequotas'][];
  limitRanges: ResourceTypes['limitranges'][];
  hpas: ResourceTypes['horizontalpodautoscalers'][];
  events: ResourceTypes['events'][];
  namespaces: Set<string>;
}

export const namespaceOf = (o: KubeObject) => o.metadata?.namespace ?? '';
export const controllerUid = (o: KubeObject) =>
  o.metadata?.ownerReferences?.find(r => r.controller)?.uid;

/**
 * Collects an entity's objects in one cluster from the cache: Deployments and
 * Services by the entity's labels, ReplicaSets and pods through owner
 * references, EndpointSlices by Service name, quotas and LimitRanges by
 * namespace, events by the UID of the entity's objects.
 */
export function entityObjects(
  cluster: RolloutsCluster,
  selection: EntitySelection,
): EntityObjects {
  const ns = namespaceOf;
  const deployments = cluster
    .list('deployments')
    .filter(d => selects(selection, d));
  const deploymentUids = new Set(deployments.map(d => d.metadata?.uid));
  const replicaSets = cluster
    .list('replicasets')
    .filter(rs => deploymentUids.has(controllerUid(rs)));
  const rsUids = new Set(replicaSets.map(rs => rs.metadata?.uid));
  const pods = cluster
    .list('pods')
    .filter(p => rsUids.has(controllerUid(p)) || selects(selection, p));
  const services = cluster.list('services').filter(s => selects(selection, s));
  const namespaces = new Set<string>([
    ...deployments.map(ns),
    ...services.map(ns),
  ]);
  if (selection.namespace) namespaces.add(selection.namespace);
  const serviceKeys = new Set(
    services.map(s => `${ns(s)}/${s.metadata?.name}`),
  );
  const endpointSlices = cluster
    .list('endpointslices')
    .filter(es =>
      serviceKeys.has(`${ns(es)}/${es.metadata?.labels?.[SERVICE_NAME_LABEL]}`),
    );
  const deploymentKeys = new Set(
    deployments.map(d => `${ns(d)}/${d.metadata?.name}`),
  );
  const hpas = cluster
    .list('horizontalpodautoscalers')
    .filter(
      h =>
        selects(selection, h) ||
        (h.spec?.scaleTargetRef.kind === 'Deployment' &&
          deploymentKeys.has(`${ns(h)}/${h.spec.scaleTargetRef.name}`)),
    );
  const inNamespaces = (o: KubeObject) => namespaces.has(ns(o));
  const objectUids = new Set(
    [...deployments, ...replicaSets, ...pods, ...services, ...hpas].map(
      o => o.metadata?.uid,
    ),
  );
  const events = cluster
    .list('events')
    .filter(e => e.involvedObject?.uid && objectUids.has(e.involvedObject.uid));
  return {
    deployments,
    replicaSets,
    pods,
    services,
    endpointSlices,
    quotas: cluster.list('resourcequotas').filter(inNamespaces),
    limitRanges: cluster.list('limitranges').filter(inNamespaces),
    hpas,
    events,
    namespaces,
  };
}
