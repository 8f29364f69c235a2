import { parseCgroupMemory, PodJson, servingPods } from './podFacts';

const pod = (
  name: string,
  overrides: Partial<PodJson['status']> & { deleting?: boolean } = {},
): PodJson => {
  const { deleting, ...status } = overrides;
  return {
    metadata: {
      name,
      ...(deleting && { deletionTimestamp: '2026-11-30T02:00:00Z' }),
    },
    status: {
      phase: 'Running',
      podIP: `198.19.0.${name.length}`,
      conditions: [{ type: 'Ready', status: 'True' }],
      ...status,
    },
  };
};

describe('servingPods', () => {
  it('keeps Running, Ready pods with an IP, sorted by name', () => {
    expect(servingPods([pod('portal-c'), pod('portal-a')])).toEqual([
      { name: 'portal-a', ip: '198.19.0.8' },
      { name: 'portal-c', ip: '198.19.0.8' },
    ]);
  });

  it('leaves out terminating, unready, pending and address-less pods', () => {
    expect(
      servingPods([
        pod('draining', { deleting: true }),
        pod('unready', { conditions: [{ type: 'Ready', status: 'False' }] }),
        pod('no-conditions', { conditions: undefined }),
        pod('pending', { phase: 'Pending' }),
        pod('no-ip', { podIP: undefined }),
        { metadata: { name: 'no-status' } },
        pod('serving'),
      ]).map(p => p.name),
    ).toEqual(['serving']);
  });
});

describe('parseCgroupMemory', () => {
  it('reads cgroup v2: memory.current and anon', () => {
    expect(
      parseCgroupMemory('314572800\nanon 209715200\nfile 94371840\n'),
    ).toEqual({ currentBytes: 314572800, anonBytes: 209715200 });
  });

  it('reads cgroup v1: memory.usage_in_bytes and total_rss, not rss', () => {
    expect(
      parseCgroupMemory(
        '300000000\ncache 90000000\nrss 1000\ntotal_cache 90000000\ntotal_rss 200000000\n',
      ),
    ).toEqual({ currentBytes: 300000000, anonBytes: 200000000 });
  });

  it('refuses input that is not a cgroup memory total and memory.stat', () => {
    // Neither v2 nor v1 files: cat fails and prints nothing.
    expect(() => parseCgroupMemory('')).toThrow(/memory.stat/);
    expect(() => parseCgroupMemory('max\nanon 1\n')).toThrow(/memory.stat/);
    expect(() => parseCgroupMemory('100\nfile 5\n')).toThrow(/memory.stat/);
    expect(() => parseCgroupMemory('100\nanon lots\n')).toThrow(/memory.stat/);
  });
});
