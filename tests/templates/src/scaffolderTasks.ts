import type { Server } from 'node:http';
import request from 'supertest';

export interface TaskRun {
  /** The task's final status: completed, failed, cancelled (or still open/processing after a minute). */
  status: string;
  /** Log lines, without colour codes. */
  log: string[];
  /** Every event of the task, the completion (with the template's output) included. */
  events: any[];
}

/**
 * Creates a real task on a test backend with the scaffolder (`POST /api/scaffolder/v2/tasks`,
 * as the Create page does) and waits, at most a minute, until it ends.
 */
export async function runScaffolderTask(
  server: Server,
  task: { templateRef: string; values: Record<string, unknown> },
): Promise<TaskRun> {
  const created = await request(server)
    .post('/api/scaffolder/v2/tasks')
    .send(task);
  if (created.status !== 201) {
    throw new Error(
      `creating the task failed with ${created.status}: ${JSON.stringify(
        created.body,
      )}`,
    );
  }
  const taskId = created.body.id;
  let status = 'open';
  for (let i = 0; i < 600 && ['open', 'processing'].includes(status); i++) {
    await new Promise(resolve => setTimeout(resolve, 100));
    status = (await request(server).get(`/api/scaffolder/v2/tasks/${taskId}`))
      .body.status;
  }
  const events: any[] = (
    await request(server).get(`/api/scaffolder/v2/tasks/${taskId}/events`)
  ).body;
  const log = events
    .filter(event => event.type === 'log')
    // eslint-disable-next-line no-control-regex
    .map(event => String(event.body.message).replace(/\u001b\[\d+m/g, ''));
  return { status, log, events };
}
