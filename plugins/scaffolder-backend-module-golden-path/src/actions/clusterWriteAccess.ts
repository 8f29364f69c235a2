import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { goldenPathKubernetesApplyPermission } from '../permissions';

/**
 * The user a cluster write is made for, or a refusal: the golden-path actions that
 * change a cluster (apply manifests, register a repository with Flux, load images into
 * the local nodes) run only for a task started by a signed-in user whom the permission
 * policy allows `golden-path.kubernetes.apply`.
 *
 * `doing` completes "<user> may not ...", `nothingDone` ends each refusal ("Nothing
 * was applied").
 */
export async function authorizeClusterWrite(options: {
  actionId: string;
  credentials: BackstageCredentials;
  auth: AuthService;
  permissions: PermissionsService;
  doing: string;
  nothingDone: string;
}): Promise<string> {
  const { actionId, credentials, auth, permissions, doing, nothingDone } =
    options;
  if (!auth.isPrincipal(credentials, 'user')) {
    const by = auth.isPrincipal(credentials, 'service')
      ? `the service ${credentials.principal.subject}`
      : 'nobody signed in';
    throw new NotAllowedError(
      `${actionId} writes to the cluster only for a task started by a signed-in user; this task was started by ${by}. ${nothingDone}.`,
    );
  }
  const user = credentials.principal.userEntityRef;
  const [decision] = await permissions.authorize(
    [{ permission: goldenPathKubernetesApplyPermission }],
    { credentials },
  );
  if (decision.result !== AuthorizeResult.ALLOW) {
    throw new NotAllowedError(
      `${user} may not ${doing}: the portal's permission policy denies ${goldenPathKubernetesApplyPermission.name}. ${nothingDone}; ask a portal administrator for access.`,
    );
  }
  return user;
}
