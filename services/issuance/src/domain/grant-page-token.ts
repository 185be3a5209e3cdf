import { MayflyError, validateUuid } from '@mayfly/core';

/** Where the next page of grants starts: after this grant (newest first). */
export interface GrantPageCursor {
  readonly issuedAt: Date;
  readonly id: string;
}

/**
 * An opaque page token for ListGrants: the last grant of a page, (issued_at, id). Grant times
 * are written by the services in milliseconds, so the token's millisecond time is exact.
 */
export function encodePageToken(cursor: GrantPageCursor): string {
  return Buffer.from(JSON.stringify([cursor.issuedAt.getTime(), cursor.id])).toString('base64url');
}

/** The cursor a page token names; ERR_INVALID_ARGUMENT for anything a page token never is. */
export function decodePageToken(token: string): GrantPageCursor | undefined {
  if (token === '') return undefined;
  const refuse = (): never => {
    throw new MayflyError('ERR_INVALID_ARGUMENT', 'page_token: is not a page token from ListGrants (pass next_page_token as it came)', { field: 'page_token' });
  };
  if (token.length > 200) refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    refuse();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') refuse();
  const [ms, id] = parsed as [number, string];
  validateUuid('page_token', id);
  return { issuedAt: new Date(ms), id };
}
