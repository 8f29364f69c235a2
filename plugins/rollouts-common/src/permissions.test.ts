import {
  rolloutsDeploymentRestartPermission,
  rolloutsDeploymentUndoPermission,
  rolloutsPermissions,
  rolloutsStatusReadPermission,
  rolloutsTrafficSwitchPermission,
  rolloutsWritePermissions,
} from './permissions';

describe('rollouts permissions', () => {
  it('names each permission the way the portal policy refers to it', () => {
    expect(rolloutsStatusReadPermission).toEqual({
      type: 'basic',
      name: 'rollouts.status.read',
      attributes: { action: 'read' },
    });
    const write = (name: string) => ({
      type: 'resource',
      name,
      attributes: { action: 'update' },
      resourceType: 'catalog-entity',
    });
    expect(rolloutsTrafficSwitchPermission).toEqual(
      write('rollouts.traffic.switch'),
    );
    expect(rolloutsDeploymentRestartPermission).toEqual(
      write('rollouts.deployment.restart'),
    );
    expect(rolloutsDeploymentUndoPermission).toEqual(
      write('rollouts.deployment.undo'),
    );
  });

  it('lists every write as a resource permission on the entity, and every permission once', () => {
    expect(rolloutsWritePermissions.map(p => p.name)).toEqual([
      'rollouts.traffic.switch',
      'rollouts.deployment.restart',
      'rollouts.deployment.undo',
    ]);
    expect(rolloutsPermissions.map(p => p.name)).toEqual([
      'rollouts.status.read',
      'rollouts.traffic.switch',
      'rollouts.deployment.restart',
      'rollouts.deployment.undo',
    ]);
  });
});
