import { isRecord } from '../is-record.ts';
import { type RequestScope, sourceApiError } from './http.ts';

/**
 * Cursors are opaque to callers: base64url JSON naming the API they belong to and where listing
 * stands in it. Versioned, so a cursor saved by an older release is refused clearly rather than
 * misread.
 */
const VERSION = 1;

export const encodeCursor = (api: string, state: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify({ v: VERSION, api, ...state }), 'utf8').toString('base64url');

/** The state a cursor holds, or SOURCE_CURSOR_EXPIRED when it is not one of this API's. */
export const decodeCursor = (scope: RequestScope & { cursor: string }): Record<string, unknown> => {
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(scope.cursor, 'base64url').toString('utf8'));
  } catch {
    state = undefined;
  }
  if (!isRecord(state) || state.v !== VERSION || state.api !== scope.api) {
    throw sourceApiError('SOURCE_CURSOR_EXPIRED', scope, 'the cursor is not one this API issued');
  }
  return state;
};

export const cursorString = (
  state: Record<string, unknown>,
  key: string,
  scope: RequestScope,
): string => {
  const value = state[key];
  if (typeof value !== 'string' || value === '') {
    throw sourceApiError('SOURCE_CURSOR_EXPIRED', scope, 'the cursor is not one this API issued');
  }
  return value;
};

export const cursorNumber = (
  state: Record<string, unknown>,
  key: string,
  scope: RequestScope,
): number => {
  const value = state[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw sourceApiError('SOURCE_CURSOR_EXPIRED', scope, 'the cursor is not one this API issued');
  }
  return value;
};

/** The `after` position a cursor-paged API (Clerk, WorkOS) resumes from; none for the first page. */
export const afterOf = (scope: RequestScope): string | undefined =>
  scope.cursor === undefined
    ? undefined
    : cursorString(decodeCursor({ ...scope, cursor: scope.cursor }), 'after', scope);
