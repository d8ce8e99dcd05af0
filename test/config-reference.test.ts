import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's configuration reference against config/schema.json: every field a connection
// (and the ciam block) can have is listed, and so is every option of every source.

const readme = readFileSync('README.md', 'utf8');
const schema = JSON.parse(readFileSync('config/schema.json', 'utf8'));

const section = (heading: string): string => {
  const start = readme.indexOf(heading);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  const next = readme.indexOf('\n#', start + heading.length);
  return readme.slice(start, next < 0 ? undefined : next);
};

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

/** Dotted paths of every property below `node` (a secret reference or object: its fields). */
const paths = (node: Node, prefix: string, stopAt: Set<string>): string[] => {
  const resolved = deref(node);
  const properties = resolved.properties ?? {};
  return Object.entries(properties).flatMap(([name, child]) => {
    const path = `${prefix}.${name}`;
    if (stopAt.has(path)) return [path];
    const below = paths(child, path, stopAt);
    return below.length === 0 ? [path] : below;
  });
};

// Listed as a whole: `mapping.fields.<Field>` names its fields in one row, `secrets.signing`
// and `secrets.apiToken` are secret references `{name, key}`, `options` has its own table.
const WHOLE = new Set([
  'connections[].mapping.fields',
  'connections[].secrets.signing',
  'connections[].secrets.apiToken',
  'connections[].options',
]);

/** Sources another section documents at length; none today: every source has its row. */
const DOCUMENTED_ELSEWHERE = new Set<string>();

describe('README configuration reference', () => {
  const reference = section('### Configuration reference');
  const rows = reference.split('\n').filter((line) => line.startsWith('|'));
  const firstCells = rows.map((line) => line.split('|')[1]?.trim() ?? '');

  it('lists every field of the ciam block and of a connection', () => {
    const connection = definitions.connection as Node;
    const expected = [
      '$schema',
      ...paths(schema.properties.ciam, 'ciam', new Set()),
      ...paths(connection, 'connections[]', WHOLE),
    ];
    const missing = expected.filter((path) => {
      const cell = path === 'connections[].mapping.fields' ? `${path}.<Field>` : path;
      return !firstCells.includes(`\`${cell}\``);
    });
    expect(missing).toEqual([]);
  });

  it('names every UpdateUser field a mapping can override', () => {
    const fields = Object.keys(
      deref(definitions.mapping as Node).properties?.fields?.properties ?? {},
    );
    const row = rows.find((line) => line.includes('`connections[].mapping.fields.<Field>`')) ?? '';
    const named = new Set([...row.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]));
    // IndexedAttribute1…IndexedAttribute5 are written as a range.
    const missing = fields.filter(
      (field) => !named.has(field) && !/^IndexedAttribute[2-4]$/.test(field),
    );
    expect(missing).toEqual([]);
    expect(fields.length).toBeGreaterThan(10);
  });

  it('lists every option of every source in that source’s row', () => {
    const blocks = (definitions.connection as Node).allOf ?? [];
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) {
      const source = block.if.properties.source.const;
      if (DOCUMENTED_ELSEWHERE.has(source)) continue;
      const row = rows.find((line) => line.split('|')[1]?.trim() === `\`${source}\``);
      expect(row, source).toBeDefined();
      const options = Object.keys(block.then.properties.options.properties ?? {});
      const missing = options.filter((option) => !row?.includes(`\`options.${option}\``));
      expect(missing, source).toEqual([]);
      const fields = block.then.properties.options.properties?.fields?.properties;
      for (const field of Object.keys(fields ?? {})) {
        expect(row, `${source} options.fields.${field}`).toContain(`\`${field}\``);
      }
    }
  });
});
