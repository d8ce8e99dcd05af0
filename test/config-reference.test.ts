import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

// docs/configuration.md against what it describes: every field a connection (and the ciam block)
// can have and every option of every source, from config/schema.json; every environment variable
// the code reads or serverless.yml sets. The local tools' variables are in docs/development.md.

const PAGE = 'docs/configuration.md';
const page = readFileSync(PAGE, 'utf8');
const schema = JSON.parse(readFileSync('config/schema.json', 'utf8'));

/** From the heading line to the next heading of the same or a higher level. */
const section = (text: string, heading: string): string => {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${PAGE} has no "${heading}"`);
  const level = /^#+/.exec(heading)?.[0] ?? '#';
  const next = text
    .slice(start + heading.length + 1)
    .search(new RegExp(`\\n#{1,${level.length}} `));
  return next < 0 ? text.slice(start) : text.slice(start, start + heading.length + 1 + next);
};

/** The top-level list items of a section, each with its continuation lines joined. */
const items = (text: string): string[] =>
  text
    .split(/\n(?=- )/)
    .filter((item) => item.startsWith('- '))
    .map((item) => item.split(/\n(?! {2})/)[0]?.replace(/\n {2}/g, ' ') ?? '');

/** The backticked names an item starts with, before its first `: `. */
const namesOf = (item: string): string[] =>
  [...(item.slice(2).split(': ')[0] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

type Node = {
  $ref?: string;
  properties?: Record<string, Node>;
  allOf?: Array<{
    if: { properties: { source: { const: string } } };
    then: { properties: { options: Node } };
  }>;
};
const definitions = (schema.definitions ?? schema.$defs) as Record<string, Node>;
const deref = (node: Node): Node =>
  node.$ref === undefined ? node : (definitions[node.$ref.split('/').at(-1) ?? ''] ?? node);

/**
 * Dotted paths of every property below `node` (a secret reference or object: its fields). A
 * recursive definition (the filter: `not` holds another filter) is walked once: a `$ref` back to a
 * definition the path is already inside is a field of its own, not descended into again.
 */
const paths = (
  node: Node,
  prefix: string,
  stopAt: Set<string>,
  inside: ReadonlySet<string> = new Set(),
): string[] => {
  if (node.$ref !== undefined && inside.has(node.$ref)) return [];
  const resolved = deref(node);
  const within = node.$ref === undefined ? inside : new Set([...inside, node.$ref]);
  const properties = resolved.properties ?? {};
  return Object.entries(properties).flatMap(([name, child]) => {
    const path = `${prefix}.${name}`;
    if (stopAt.has(path)) return [path];
    const below = paths(child, path, stopAt, within);
    return below.length === 0 ? [path] : below;
  });
};

// Listed as a whole: `mapping.fields.<Field>` names its fields in one entry, `secrets.signing`
// and `secrets.apiToken` are secret references `{name, key}`, `options` has its own section.
const WHOLE = new Set([
  'connections[].mapping.fields',
  'connections[].secrets.signing',
  'connections[].secrets.apiToken',
  'connections[].options',
]);

/**
 * Every `.ts`/`.mjs` file below `dir`, generated code aside, and build output too (`npm run bench`
 * leaves its bundles in `bench/.out`, which read the variables of the libraries they bundle).
 */
const sources = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(
      (name) =>
        /\.(ts|mjs)$/.test(name) && !name.includes('generated') && !/(^|\/)\.out\//.test(name),
    )
    .map((name) => join(dir, name));

/**
 * Environment variable names the code reads: `env.NAME`, `env['NAME']`, `(env, 'NAME'`, and
 * readEnv's own readers `text('NAME')` and `number('NAME', …)`.
 */
const variablesRead = (dirs: readonly string[]): Set<string> => {
  const found = new Set<string>();
  for (const file of dirs.flatMap(sources)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of [
      /\benv\.([A-Z][A-Z0-9_]+)/g,
      /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
      /\(\s*env\s*,\s*['"]([A-Z][A-Z0-9_]+)['"]/g,
      /\b(?:text|number)\(\s*['"]([A-Z][A-Z0-9_]+)['"]/g,
    ]) {
      for (const [, name] of text.matchAll(pattern)) if (name !== undefined) found.add(name);
    }
  }
  return found;
};

/** What serverless.yml puts in the functions' environment, provider-wide and per function. */
const variablesSet = (): Set<string> => {
  const template = load(readFileSync('serverless.yml', 'utf8')) as {
    provider: { environment?: Record<string, unknown> };
    functions: Record<string, { environment?: Record<string, unknown> }>;
  };
  return new Set([
    ...Object.keys(template.provider.environment ?? {}),
    ...Object.values(template.functions).flatMap((fn) => Object.keys(fn.environment ?? {})),
  ]);
};

describe('docs/configuration.md configuration reference', () => {
  const entries = items(section(page, '## Configuration reference'));
  const documented = entries.map((item) => namesOf(item)[0] ?? '');

  it('lists every field of the ciam block, of a tenant and of a connection', () => {
    const connection = definitions.connection as Node;
    const expected = [
      '$schema',
      ...paths(schema.properties.ciam, 'ciam', new Set()),
      ...paths(definitions.tenant as Node, 'tenants.<id>', new Set()),
      ...paths(connection, 'connections[]', WHOLE),
    ];
    const missing = expected.filter((path) => {
      const name = path === 'connections[].mapping.fields' ? `${path}.<Field>` : path;
      return !documented.includes(name);
    });
    expect(missing).toEqual([]);
    expect(expected.length).toBeGreaterThan(20);
    // The recursive filter is listed field by field, once.
    expect(expected.filter((path) => path.startsWith('connections[].filter.'))).toEqual(
      ['all', 'any', 'not', 'path', 'op', 'value'].map((field) => `connections[].filter.${field}`),
    );
  });

  it('names every filter operator', () => {
    const op = deref(definitions.filter as Node).properties?.op as { enum?: string[] } | undefined;
    const ops = op?.enum;
    const entry = entries.find((item) => namesOf(item)[0] === 'connections[].filter.op') ?? '';
    expect(ops?.length).toBeGreaterThan(5);
    expect((ops ?? []).filter((op) => !entry.includes(`\`${op}\``))).toEqual([]);
  });

  it('names every UpdateUser field a mapping can override', () => {
    const fields = Object.keys(
      deref(definitions.mapping as Node).properties?.fields?.properties ?? {},
    );
    const entry = entries.find(
      (item) => namesOf(item)[0] === 'connections[].mapping.fields.<Field>',
    );
    const named = new Set([...(entry ?? '').matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]));
    // IndexedAttribute1…IndexedAttribute5 are written as a range.
    const missing = fields.filter(
      (field) => !named.has(field) && !/^IndexedAttribute[2-4]$/.test(field),
    );
    expect(missing).toEqual([]);
    expect(fields.length).toBeGreaterThan(10);
  });

  it('lists every option of every source under that source', () => {
    const options = section(page, '## Source options');
    const blocks = (definitions.connection as Node).allOf ?? [];
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) {
      const source = block.if.properties.source.const;
      const listed = section(options, `### \`${source}\``);
      const names = Object.keys(block.then.properties.options.properties ?? {});
      const missing = names.filter((option) => !listed.includes(`\`options.${option}\``));
      expect(missing, source).toEqual([]);
      const fields = block.then.properties.options.properties?.fields?.properties;
      for (const field of Object.keys(fields ?? {})) {
        expect(listed, `${source} options.fields.${field}`).toContain(`\`${field}\``);
      }
    }
  });
});

describe('docs/configuration.md environment variables', () => {
  const documented = new Set(
    items(section(page, '## Environment variables')).flatMap((item) => namesOf(item)),
  );
  const read = variablesRead(['lib', 'handlers']);
  const set = variablesSet();

  it('lists every variable the functions read or serverless.yml sets', () => {
    expect(read).toContain('CIAM_RATE_LIMIT_PER_SECOND');
    expect(read).toContain('ADAPTER_CONFIG');
    expect(set).toContain('QUEUE_URL');
    expect([...new Set([...read, ...set])].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('lists no variable that nothing reads or sets', () => {
    expect([...documented].filter((name) => !read.has(name) && !set.has(name))).toEqual([]);
  });

  it('leaves none of the local tools’ variables out of docs/development.md', () => {
    const development = readFileSync('docs/development.md', 'utf8');
    const tools = variablesRead(['scripts', 'local', 'emulator', 'bench']);
    expect(tools).toContain('CIAM_EMULATOR_PORT');
    expect([...tools].filter((name) => !development.includes(`\`${name}\``))).toEqual([]);
  });
});
