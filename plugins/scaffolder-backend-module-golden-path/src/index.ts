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
