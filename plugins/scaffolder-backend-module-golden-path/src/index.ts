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
export { createPublishRollbackAction } from './actions/publishRollback';
export { createKubernetesValidateAction } from './actions/kubernetesValidate';
export { createKubernetesApplyAction } from './actions/kubernetesApply';
export {
  createKubernetesWaitAction,
  RolloutNotConvergedError,
  WaitAbortedError,
} from './actions/kubernetesWait';
export {
  createFluxRegisterAction,
  FluxNotReconciledError,
} from './actions/fluxRegister';
export { createLocalImagesAction } from './actions/localImages';
export {
  goldenPathKubernetesApplyPermission,
  goldenPathPermissions,
} from './permissions';
