import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { IGNORED_REASONS } from '../lib/change.ts';
import { ERRORS } from '../lib/errors.ts';
import { SIGNED_EVENTS_DIR } from '../scripts/events.ts';

// The README and the pages of docs/ against the code they describe: what they list must be what
// the code does, and what they link to must exist.

const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const read = (path: string): string => readFileSync(path, 'utf8');

/** From the heading line to the next heading of any level. */
const section = (page: string, heading: string): string => {
  const text = read(page);
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${page} has no "${heading}"`);
  const next = text.indexOf('\n#', start + heading.length + 1);
  return text.slice(start, next < 0 ? undefined : next);
};

/** The fenced code block right after `heading`. */
const codeBlockAfter = (page: string, heading: string): string => {
  const text = section(page, heading);
  const block = /\n```[a-z]*\n([\s\S]*?)\n```/.exec(text);
  if (block?.[1] === undefined) throw new Error(`${page} "${heading}" has no code block`);
  return block[1];
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = (page: string): string[] =>
  [...read(page).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? ''));

/** Folder names .gitignore excludes by name (`node_modules/`, `coverage/`, `.tmp/`…). */
const ignoredFolders = (): Set<string> =>
  new Set(
    read('.gitignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[^#/][^/]*\/$/.test(line))
      .map((line) => line.slice(0, -1)),
  );

const foldersIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => !name.startsWith('.') && !ignoredFolders().has(name))
    .filter((name) => statSync(join(dir, name)).isDirectory());

describe('docs/delivery.md', () => {
  it('lists every error code with the status and retryability of lib/errors.ts, and no other', () => {
    const rows = section('docs/delivery.md', '## Error codes')
      .split('\n')
      .map((line) => /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(yes|no)\s*\|/.exec(line))
      .filter((match) => match !== null)
      .map(([, code, status, retryable]) => [code, Number(status), retryable === 'yes']);
    expect(rows).toEqual(
      Object.entries(ERRORS).map(([code, spec]) => [code, spec.statusCode, spec.retryable]),
    );
  });

  it('names every ignored reason the adapter answers, and no other', () => {
    const listed = [...section('docs/delivery.md', '## Responses').matchAll(/`([a-z_]+)`/g)].map(
      (m) => m[1],
    );
    expect(
      listed.filter((word) => word !== undefined && IGNORED_REASONS.some((r) => r === word)),
    ).toEqual([...IGNORED_REASONS]);
  });
});

describe('README and docs/', () => {
  it('speak of this repository alone', () => {
    for (const page of PAGES) {
      expect(read(page), page).not.toMatch(/\.\.\/shared|DESIGN\.md|\bissues?\s*#?\d|#\d+\b/i);
    }
  });

  it('link only to files and headings that exist', () => {
    let checked = 0;
    for (const page of PAGES) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^[a-z]+:/.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? page : normalize(join(dirname(page), path));
        expect(existsSync(file), `${page} → ${target}`).toBe(true);
        if (anchor !== undefined) expect(anchorsOf(file), `${page} → ${target}`).toContain(anchor);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('reach every page of docs/ from its table of contents, and it from the README', () => {
    const contents = read('docs/README.md');
    for (const page of PAGES.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md')) {
      expect(contents, page).toContain(`](${basename(page)})`);
    }
    expect(read('README.md')).toContain('](docs/README.md)');
  });

  it('invoke the functions locally on the events `npm run events` writes', () => {
    const functions = Object.keys(
      (load(read('serverless.yml')) as { functions: Record<string, unknown> }).functions,
    );
    const committed = readdirSync('events');
    const invocations = [
      ...read('docs/local.md').matchAll(/serverless invoke local .*-f (\S+) +-p (\S+)/g),
    ];
    expect(invocations.length).toBeGreaterThanOrEqual(2);
    for (const [, fn, event = ''] of invocations) {
      expect(functions).toContain(fn);
      // Signed copies of the committed fixtures, under their names (test/scripts/events.test.ts).
      expect(dirname(event)).toBe(SIGNED_EVENTS_DIR);
      expect(committed).toContain(basename(event));
    }
  });

  it('describe every folder of the tree in the layout', () => {
    const layout = codeBlockAfter('docs/development.md', '## Layout');
    const missing = [
      ...foldersIn('.').filter((name) => !new RegExp(`^${name}/`, 'm').test(layout)),
      ...foldersIn('lib')
        .filter((name) => !new RegExp(`^ {2}(?:\\S+/ )*${name}/`, 'm').test(layout))
        .map((name) => `lib/${name}`),
    ];
    expect(missing).toEqual([]);
  });
});
