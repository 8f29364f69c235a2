import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { StatusEntityReader } from './services/entityLookup/StatusEntityReader';
import { entitySelection } from './services/entitySelection';
import {
  namespacesOf,
  StatusAnswer,
  StatusAnswerCache,
} from './services/status/StatusAnswerCache';
import { StatusService } from './services/status/StatusService';
import { WriteCommand, WriteRunner } from './services/writes/WriteRunner';

/** @internal */
export interface RouterOptions {
  httpAuth: HttpAuthService;
  entities: StatusEntityReader;
  status: StatusService;
  /** Answers kept per state of the caches; without it every answer is computed. */
  answers?: StatusAnswerCache;
  writes: WriteRunner;
  commands: WriteCommand<any, object>[];
  notifier?: ChangeNotifier;
}

/** Prefixes of the write routes, which audit even unauthenticated attempts. */
export const WRITE_ROUTE_PREFIXES = [
  '/entity/:kind/:namespace/:name/traffic',
  '/entity/:kind/:namespace/:name/deployments',
];

/**
 * Sends a kept answer as it is: its ETag (express answers 304 to a page that
 * has it), and its gzip bytes to a client that accepts them (the compression
 * middleware leaves an encoded body alone), so a repeated answer is neither
 * hashed nor compressed again.
 */
function sendAnswer(
  req: express.Request,
  res: express.Response,
  answer: StatusAnswer,
) {
  res.type('json');
  res.vary('Accept-Encoding');
  res.setHeader('ETag', answer.etag);
  const gzip =
    req.acceptsEncodings('gzip') === 'gzip' ? answer.gzip() : undefined;
  // A small answer may grow when compressed.
  if (gzip && gzip.length < answer.json.length) {
    res.setHeader('Content-Encoding', 'gzip');
    res.send(gzip);
  } else {
    res.send(answer.json);
  }
}

/** The HTTP API of the rollouts backend: one read route and the write commands. @internal */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, entities, status, answers, writes, notifier } = options;
  const router = Router();
  router.use(express.json());

  router.get('/entity/:kind/:namespace/:name/status', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entityRef = stringifyEntityRef({
      kind: req.params.kind,
      namespace: req.params.namespace,
      name: req.params.name,
    });
    // `Cache-Control: no-cache` asks for the entity as the catalog has it now.
    const fresh = /\bno-cache\b/i.test(req.header('cache-control') ?? '');
    const entity = await entities.read(entityRef, credentials, { fresh });
    const selection = entitySelection(entity);
    if (!selection) {
      throw new InputError(
        `Entity ${entityRef} has neither a backstage.io/kubernetes-id nor a backstage.io/kubernetes-label-selector annotation`,
      );
    }
    if (fresh || !answers) {
      const response = status.getStatus(entityRef, selection);
      notifier?.track(entityRef, selection, namespacesOf(response));
      res.json(response);
      return;
    }
    const answer = answers.answer(entityRef, selection);
    notifier?.track(entityRef, selection, answer.namespaces);
    sendAnswer(req, res, answer);
  });

  for (const command of options.commands) {
    router.post(
      `/entity/:kind/:namespace/:name${command.path}`,
      async (req, res) => {
        res.json(await writes.run(command, req));
      },
    );
  }

  return router;
}
