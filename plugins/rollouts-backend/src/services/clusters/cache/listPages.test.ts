import { KubeApiError } from '../kubeHttp';
import { ListPage, listPages } from './listPages';

const expired = () =>
  new KubeApiError(
    410,
    { kind: 'Status', code: 410, reason: 'Expired' },
    'The provided continue parameter is too old',
  );

/** A paginating API server over `items`, pages of `limit`, snapshot `rv`. */
function pager(items: number[], limit: number, rv = '100') {
  const requests: (string | undefined)[] = [];
  const fetchPage = async (
    token: string | undefined,
  ): Promise<ListPage<number>> => {
    requests.push(token);
    const start = token ? Number(token.split(':')[1]) : 0;
    const end = start + limit;
    return {
      metadata: {
        resourceVersion: token ? 'ignored' : rv,
        ...(end < items.length && { continue: `${rv}:${end}` }),
      },
      items: items.slice(start, end),
    };
  };
  return { requests, fetchPage };
}

describe('listPages', () => {
  it('follows continue tokens to the end and keeps the first page’s resourceVersion', async () => {
    const api = pager([1, 2, 3, 4, 5, 6, 7], 3);
    const result = await listPages({
      fetchPage: api.fetchPage,
      transform: n => n * 10,
    });
    expect(result).toEqual({
      resourceVersion: '100',
      items: [10, 20, 30, 40, 50, 60, 70],
      pages: 3,
    });
    expect(api.requests).toEqual([undefined, '100:3', '100:6']);
  });

  it('takes an empty list (items null) as no items', async () => {
    const result = await listPages<number, number>({
      fetchPage: async () => ({
        metadata: { resourceVersion: '7' },
        items: null,
      }),
      transform: n => n,
    });
    expect(result).toEqual({ resourceVersion: '7', items: [], pages: 1 });
  });

  it('starts over from the first page when a continue token expired (410)', async () => {
    const api = pager([1, 2, 3, 4, 5], 2);
    let failNext = true;
    const result = await listPages({
      fetchPage: async token => {
        if (token === '100:4' && failNext) {
          failNext = false;
          throw expired();
        }
        return api.fetchPage(token);
      },
      transform: n => n,
    });
    // Nothing of the abandoned snapshot is kept twice.
    expect(result.items).toEqual([1, 2, 3, 4, 5]);
    expect(api.requests).toEqual([
      undefined,
      '100:2',
      undefined,
      '100:2',
      '100:4',
    ]);
    expect(result.pages).toBe(5);
  });

  it('gives up after maxRestarts expired lists, with the 410', async () => {
    const api = pager([1, 2, 3], 1);
    const attempt = listPages({
      fetchPage: async token => {
        if (token) throw expired();
        return api.fetchPage(token);
      },
      transform: n => n,
      maxRestarts: 2,
    });
    await expect(attempt).rejects.toMatchObject({ code: 410 });
    expect(api.requests).toEqual([undefined, undefined, undefined]);
  });

  it('does not retry other errors or a 410 on the first page', async () => {
    let calls = 0;
    await expect(
      listPages({
        fetchPage: async () => {
          calls += 1;
          throw expired();
        },
        transform: n => n,
      }),
    ).rejects.toMatchObject({ code: 410 });
    expect(calls).toBe(1);

    const api = pager([1, 2, 3], 1);
    await expect(
      listPages({
        fetchPage: async token => {
          if (token) throw new KubeApiError(500, {}, 'etcd timeout');
          return api.fetchPage(token);
        },
        transform: n => n,
      }),
    ).rejects.toMatchObject({ code: 500 });
    expect(api.requests).toEqual([undefined]);
  });

  it('lists more items than one call can take as arguments (~130k)', async () => {
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const result = await listPages({
      fetchPage: pager(items, 500).fetchPage,
      transform: n => n,
    });
    expect(result.items).toHaveLength(200_000);
    expect(result.items[199_999]).toBe(199_999);
  });
});
