export { rolloutsApiRef } from './RolloutsApi';
export type { RolloutsApi } from './RolloutsApi';
export { RolloutsClient } from './RolloutsClient';
