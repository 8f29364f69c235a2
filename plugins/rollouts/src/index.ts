/**
 * Frontend of the rollouts plugin (new frontend system).
 *
 * @packageDocumentation
 */
export { rolloutsPlugin as default } from './plugin';
export { rolloutsApiRef, RolloutsClient } from './api';
export type { RolloutsApi } from './api';
export type { RolloutsWriteOptions } from './api/RolloutsApi';
