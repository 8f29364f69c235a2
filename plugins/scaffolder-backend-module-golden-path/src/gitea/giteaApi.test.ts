import { networkReason } from './giteaApi';

describe('networkReason', () => {
  const fetchFailed = (cause: unknown) =>
    Object.assign(new TypeError('fetch failed'), { cause });

  it.each([
    [
      'a refused connection',
      fetchFailed({ code: 'ECONNREFUSED' }),
      'connection refused: nothing listens there',
    ],
    [
      'an unknown host',
      fetchFailed({ code: 'ENOTFOUND' }),
      'the host name does not resolve',
    ],
    [
      'a connect timeout',
      fetchFailed({ code: 'UND_ERR_CONNECT_TIMEOUT' }),
      'connection timed out',
    ],
    [
      "the request's own deadline (AbortSignal.timeout)",
      Object.assign(new Error('The operation was aborted due to timeout'), {
        name: 'TimeoutError',
      }),
      'no answer in time (timeout)',
    ],
    [
      'a refused connection to every address of a host',
      fetchFailed({ errors: [{ code: 'ECONNREFUSED' }] }),
      'connection refused: nothing listens there',
    ],
    [
      'anything else, with its message and code',
      fetchFailed({ message: 'socket hang up', code: 'ECONNRESET' }),
      'socket hang up (ECONNRESET)',
    ],
  ])('names %s', (_label, error, expected) => {
    expect(networkReason(error)).toBe(expected);
  });
});
