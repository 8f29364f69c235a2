/** One RFC 6902 JSON Patch operation. @public */
export type JsonPatchOperation =
  | { op: 'test' | 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/**
 * Escapes one reference token of a JSON Pointer (RFC 6901): `~` becomes `~0`
 * and `/` becomes `~1`, so `app.kubernetes.io/slot` becomes
 * `app.kubernetes.io~1slot`.
 *
 * @public
 */
export function escapeJsonPointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Builds a JSON Pointer from unescaped tokens.
 *
 * @public
 */
export function jsonPointer(...tokens: string[]): string {
  return tokens.map(t => `/${escapeJsonPointerToken(t)}`).join('');
}
