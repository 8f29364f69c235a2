/**
 * Ends the process when the backend fails to start. Backstage logs the failed
 * start as an unhandled rejection and keeps the process alive: its HTTP server
 * still answers the liveness probe (200) while readiness stays 503, so
 * Kubernetes never restarts the container and the replica stays out of the
 * Service for good. Exiting lets the kubelet restart it. Seen on the first
 * start of deploy/portal's 3 replicas on an empty PostgreSQL: two replicas
 * migrating the same plugin database at once fail with "relation
 * knex_migrations already exists" or "Migration table is already locked",
 * and the restart finds the migrations done
 * (scripts/test-portal-on-cluster.sh).
 */
export async function exitOnStartupFailure(
  start: () => Promise<unknown>,
  exit: (code: number) => void = code => process.exit(code),
  report: (message: string) => void = message => console.error(message),
): Promise<void> {
  try {
    await start();
  } catch (error) {
    report(
      `Backend startup failed, exiting so that the process is restarted: ${
        error instanceof Error ? error.stack ?? error.message : String(error)
      }`,
    );
    exit(1);
  }
}
