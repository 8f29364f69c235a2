export { rolloutsApiRef } from './RolloutsApi';
export type { RolloutsApi, RolloutsWriteOptions } from './RolloutsApi';
export { RolloutsClient } from './RolloutsClient';
