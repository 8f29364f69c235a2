/**
 * Scaffolder actions of the Golden Path Portal.
 *
 * @packageDocumentation
 */
export { scaffolderModuleGoldenPath as default } from './module';
export {
  createFetchSkeletonAction,
  listSkeletonParts,
} from './actions/fetchSkeleton';
export { createPublishPreflightAction } from './actions/publishPreflight';
export type {
  PublishPreflightInput,
  PublishPreflightOutput,
} from './actions/publishPreflight';
export { createPublishRollbackAction } from './actions/publishRollback';
export { createKubernetesValidateAction } from './actions/kubernetesValidate';
export { createKubernetesApplyAction } from './actions/kubernetesApply';
export {
  createKubernetesWaitAction,
  RolloutNotConvergedError,
  WaitAbortedError,
} from './actions/kubernetesWait';
export type {
  FluxRegisterInput,
  FluxRegisterOutput,
} from './actions/fluxRegister';
export {
  createFluxRegisterAction,
  FluxNotReconciledError,
} from './actions/fluxRegister';
export { createLocalImagesAction } from './actions/localImages';
export {
  goldenPathKubernetesApplyPermission,
  goldenPathPermissions,
} from './permissions';
export type { FetchTemplateAction } from './actions/fetchSkeleton';
export type {
  ApplyResult,
  ConnectCluster,
  KindInfo,
  KubeCluster,
} from './kubernetes/clusterClient';
export type {
  ClusterConnection,
  KubernetesActionSettings,
} from './kubernetes/settings';
export type {
  PolicyFinding,
  RunManifestChecks,
} from './kubernetes/manifestChecks';
export type { FluxSettings } from './flux/fluxSettings';
export type {
  BuildLocalImages,
  LocalImagesSettings,
} from './localImages/localImages';
export type { KubeReplicaSetWithConditions } from './kubernetes/rolloutProgress';
