import {
  KubeKustomization,
  KubeObject,
  SERVICE_NAME_LABEL,
} from '@golden-path/plugin-rollouts-common';
import {
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
} from '../clusters/types';
import { EntitySelection } from '../entitySelection';

/** Everything one cluster's cache holds for one entity. @public */
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
 * namespace, events by the UID of the entity's objects. Every lookup goes
 * through the cache's indexes, so the work is proportional to the entity's
 * objects, not to the cluster's.
 */
export function entityObjects(
  cluster: RolloutsCluster,
  selection: EntitySelection,
): EntityObjects {
  const ns = namespaceOf;
  const bySelection = <K extends ResourceKind>(kind: K) =>
    cluster
      .objects(kind)
      .matching(selection.labelSelector, selection.namespace);
  const ownedBy = <K extends ResourceKind>(kind: K, owners: KubeObject[]) =>
    owners.flatMap(o =>
      o.metadata?.uid ? cluster.objects(kind).ownedBy(o.metadata.uid) : [],
    );
  const deployments = bySelection('deployments');
  const replicaSets = ownedBy('replicasets', deployments);
  const pods = uniqueObjects([
    ...ownedBy('pods', replicaSets),
    ...bySelection('pods'),
  ]);
  const services = bySelection('services');
  const namespaces = new Set<string>([
    ...deployments.map(ns),
    ...services.map(ns),
  ]);
  if (selection.namespace) namespaces.add(selection.namespace);
  const inNamespaces = <K extends ResourceKind>(kind: K) =>
    [...namespaces].flatMap(n => cluster.objects(kind).inNamespace(n));
  const endpointSlices = services.flatMap(s =>
    cluster
      .objects('endpointslices')
      .matching(
        { matchLabels: { [SERVICE_NAME_LABEL]: s.metadata?.name ?? '' } },
        ns(s),
      ),
  );
  const deploymentKeys = new Set(
    deployments.map(d => `${ns(d)}/${d.metadata?.name}`),
  );
  const hpas = uniqueObjects([
    ...bySelection('horizontalpodautoscalers'),
    ...[...new Set(deployments.map(ns))]
      .flatMap(n => cluster.objects('horizontalpodautoscalers').inNamespace(n))
      .filter(
        h =>
          h.spec?.scaleTargetRef.kind === 'Deployment' &&
          deploymentKeys.has(`${ns(h)}/${h.spec.scaleTargetRef.name}`),
      ),
  ]);
  const events = uniqueObjects(
    [...deployments, ...replicaSets, ...pods, ...services, ...hpas].flatMap(o =>
      o.metadata?.uid ? cluster.objects('events').about(o.metadata.uid) : [],
    ),
  );
  return {
    deployments,
    replicaSets,
    pods,
    services,
    endpointSlices,
    quotas: inNamespaces('resourcequotas'),
    limitRanges: inNamespaces('limitranges'),
    hpas,
    events,
    namespaces,
  };
}

/** Objects found through two lookups, each once (in first-seen order). */
function uniqueObjects<T extends KubeObject>(objects: T[]): T[] {
  return [...new Set(objects)];
}

/**
 * The Flux Kustomizations of an entity: those whose ownership annotation names
 * it (as the portal's Flux registration writes them) and those carrying its
 * labels (as a repository's own Flux manifests do), in any namespace (see
 * `selectsKustomization`).
 */
export function entityKustomizations(
  cluster: RolloutsCluster,
  entityRef: string,
  selection: EntitySelection,
): KubeKustomization[] {
  const cached = cluster.objects('kustomizations');
  return uniqueObjects([
    ...cached.naming(entityRef),
    ...cached.matching(selection.labelSelector),
  ]);
}
