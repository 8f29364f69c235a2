import {
  digestWarning,
  fluxUnavailableText,
  promotionPullRequestsUrl,
  shortDigest,
  shortRevision,
} from './environmentsText';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;

describe('promotionPullRequestsUrl', () => {
  it("filters GitHub's pull requests by the promotion branches", () => {
    expect(
      promotionPullRequestsUrl('url:https://github.com/acme/shop/tree/main/'),
    ).toBe('https://github.com/acme/shop/pulls?q=is%3Apr+head%3Apromote%2F');
  });

  it("lists every pull request on other hosts (Gitea's source view, a clone URL)", () => {
    expect(
      promotionPullRequestsUrl(
        'url:http://127.0.0.1:3300/golden-path/shop/src/branch/main/',
      ),
    ).toBe('http://127.0.0.1:3300/golden-path/shop/pulls');
    expect(
      promotionPullRequestsUrl(
        'url:http://127.0.0.1:3300/golden-path/shop.git',
      ),
    ).toBe('http://127.0.0.1:3300/golden-path/shop/pulls');
  });

  it('gives no link without a repository URL', () => {
    expect(promotionPullRequestsUrl(undefined)).toBeUndefined();
    expect(promotionPullRequestsUrl('url:not a url')).toBeUndefined();
    expect(
      promotionPullRequestsUrl('url:https://github.com/acme'),
    ).toBeUndefined();
    expect(
      promotionPullRequestsUrl('url:javascript:alert(1)//x/y'),
    ).toBeUndefined();
  });
});

describe('short forms and warnings', () => {
  it('shortens digests and commits, and leaves tags and branch names whole', () => {
    expect(shortDigest(DIGEST)).toBe('sha256:abababababab');
    expect(shortDigest('sha256:abc')).toBe('sha256:abc');
    expect(shortRevision(`main@sha1:${'0123456789'.repeat(4)}`)).toBe(
      '0123456',
    );
    expect(shortRevision('v1.0.0')).toBe('v1.0.0');
  });

  it('warns when pods run another digest than Git names, or Git names a tag', () => {
    const container = {
      name: 'app',
      image: `localhost/shop@${DIGEST}`,
      digest: DIGEST,
      running: [DIGEST, OTHER],
    };
    expect(digestWarning({ ...container, agreement: 'mismatch' })).toBe(
      'Pods run sha256:cdcdcdcdcdcd, not the digest Git names',
    );
    expect(digestWarning({ ...container, agreement: 'match' })).toBeUndefined();
    expect(digestWarning({ ...container, agreement: 'unpinned' })).toBe(
      'Git names a tag, not a digest',
    );
  });

  it('says why there are no environments only when Flux cannot be read', () => {
    expect(fluxUnavailableText('installed')).toBeUndefined();
    expect(fluxUnavailableText('not-installed')).toContain('not installed');
    expect(fluxUnavailableText('forbidden')).toContain('RBAC');
  });
});
