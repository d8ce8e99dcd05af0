import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IGNORED_REASONS } from '../lib/change.ts';
import { ERRORS } from '../lib/errors.ts';

const readme = readFileSync('README.md', 'utf8');

const section = (heading: string): string => {
  const start = readme.indexOf(heading);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  const next = readme.indexOf('\n#', start + heading.length);
  return readme.slice(start, next < 0 ? undefined : next);
};

describe('README', () => {
  it('lists every error code with the status and retryability of lib/errors.ts, and no other', () => {
    const rows = section('### Error codes')
      .split('\n')
      .map((line) => /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(yes|no)\s*\|/.exec(line))
      .filter((match) => match !== null)
      .map(([, code, status, retryable]) => [code, Number(status), retryable === 'yes']);
    expect(rows).toEqual(
      Object.entries(ERRORS).map(([code, spec]) => [code, spec.statusCode, spec.retryable]),
    );
  });

  it('names every ignored reason the adapter answers, and no other', () => {
    const listed = [...section('## Responses').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(
      listed.filter((word) => word !== undefined && IGNORED_REASONS.some((r) => r === word)),
    ).toEqual([...IGNORED_REASONS]);
  });

  it('speaks of this repository alone', () => {
    expect(readme).not.toMatch(/\.\.\/shared|DESIGN\.md/);
  });
});
