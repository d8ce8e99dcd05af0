import { describe, expect, it } from 'vitest';
import { AdapterError, ERRORS, type ErrorCode, isErrorCode } from '../lib/errors.ts';

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('errors', () => {
  it.each(codes)('gives %s its status and retryability from the table', (code) => {
    const error = new AdapterError(code, 'x');
    expect(error.statusCode).toBe(ERRORS[code].statusCode);
    expect(error.retryable).toBe(ERRORS[code].retryable);
  });

  it('never marks a 4xx retryable but 429, so senders drop only what can never succeed', () => {
    const wrong = codes.filter((code) => {
      const { statusCode, retryable } = ERRORS[code];
      return statusCode < 500 && statusCode !== 429 && retryable;
    });
    expect(wrong).toEqual([]);
  });

  it('answers every retryable code with a 429 or 5xx so the sender retries it', () => {
    const wrong = codes.filter((code) => ERRORS[code].retryable && ERRORS[code].statusCode < 429);
    expect(wrong).toEqual([]);
  });

  it('sends Retry-After with every 429 and 503', () => {
    for (const code of codes.filter((c) => [429, 503].includes(ERRORS[c].statusCode))) {
      expect(Number(new AdapterError(code, 'x').headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('lets a call site add headers but not change the status', () => {
    const error = new AdapterError('METHOD_NOT_ALLOWED', 'Use POST', {
      headers: { allow: 'POST' },
    });
    expect(error).toMatchObject({ statusCode: 405, headers: { allow: 'POST' }, expose: true });
  });

  it('hides messages of 5xx errors unless told otherwise', () => {
    expect(new AdapterError('INTERNAL', 'boom').expose).toBe(false);
    expect(new AdapterError('UPSTREAM_AUTH_FAILED', 'x', { expose: true }).expose).toBe(true);
  });

  it('recognises its own codes only', () => {
    expect(isErrorCode('USER_NOT_FOUND')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('NOPE')).toBe(false);
  });
});
