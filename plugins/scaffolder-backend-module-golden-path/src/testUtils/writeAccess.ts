import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

/**
 * The services a cluster-writing action checks and reports to, as the tests drive them:
 * a permission policy answering `decision` (ALLOW until a test says DENY) and an auditor
 * whose every event is `auditEvent`.
 */
export function writeAccessMocks() {
  const policy: { decision: AuthorizeResult.ALLOW | AuthorizeResult.DENY } = {
    decision: AuthorizeResult.ALLOW,
  };
  const auditEvent = { success: jest.fn(), fail: jest.fn() };
  return {
    policy,
    permissions: mockServices.permissions.mock({
      authorize: jest.fn(async requests =>
        requests.map(() => ({ result: policy.decision })),
      ),
    }),
    auditEvent,
    auditor: mockServices.auditor.mock({
      createEvent: jest.fn(async () => auditEvent),
    }),
  };
}
