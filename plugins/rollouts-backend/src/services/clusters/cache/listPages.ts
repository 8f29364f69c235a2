/** One page of a Kubernetes list, as the API server answers it. */
export interface ListPage<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

/** A whole list, put together from its pages. */
export interface ListResult<T> {
  /** The resourceVersion of the list's snapshot: watches resume from it. */
  resourceVersion: string;
  items: T[];
  /** Requests made, including those of lists restarted after 410. */
  pages: number;
}

export interface ListPagesOptions<T, R> {
  /** Fetches one page: `continueToken` is undefined for the first. */
  fetchPage: (continueToken: string | undefined) => Promise<ListPage<T>>;
  /** Applied to each item as it arrives, so only the result is kept. */
  transform: (item: T) => R;
  /** Full restarts after 410 Expired before giving up. Default 3. */
  maxRestarts?: number;
}

const isExpired = (e: unknown) =>
  (e as { code?: unknown })?.code === 410 ||
  (e as { statusCode?: unknown })?.statusCode === 410;

/**
 * Lists a collection page by page (`limit`/`continue`), so neither the API
 * server nor this process builds one huge response. All pages belong to the
 * snapshot of the first; when the API server no longer has it (HTTP 410
 * Expired, e.g. a slow list outlived etcd's compaction window), the list
 * starts over from the first page, as client-go's pager does.
 */
export async function listPages<T, R>(
  options: ListPagesOptions<T, R>,
): Promise<ListResult<R>> {
  const maxRestarts = options.maxRestarts ?? 3;
  let pages = 0;
  for (let restart = 0; ; restart += 1) {
    const items: R[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    try {
      do {
        const page = await options.fetchPage(continueToken);
        pages += 1;
        // One push per item: spreading a page would work, a whole list not.
        for (const item of page.items ?? [])
          items.push(options.transform(item));
        if (continueToken === undefined) {
          resourceVersion = page.metadata?.resourceVersion ?? '';
        }
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken !== undefined);
      return { resourceVersion, items, pages };
    } catch (e) {
      // Only a continuation can expire; a 410 on the first page is an error.
      if (
        !isExpired(e) ||
        continueToken === undefined ||
        restart >= maxRestarts
      ) {
        throw e;
      }
    }
  }
}
