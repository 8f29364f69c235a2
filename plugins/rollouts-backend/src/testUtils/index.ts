/**
 * Test utilities of the rollouts backend: reading what the Kubernetes API server
 * audited, for tests and benchmarks that count requests at the server.
 *
 * @packageDocumentation
 */
export {
  ApiServerAuditLog,
  WRITE_VERBS,
  countBy,
  parseAuditLines,
} from './ApiServerAuditLog';
export type { AuditedRequest } from './ApiServerAuditLog';
