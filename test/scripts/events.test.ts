import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { runEventsCli, SIGNED_EVENTS_DIR } from '../../scripts/events.ts';

/** Every file of a folder with its bytes. */
const contents = async (dir: string): Promise<Record<string, string>> => {
  const names = (await readdir(dir)).sort();
  const entries = await Promise.all(
    names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const),
  );
  return Object.fromEntries(entries);
};

/**
 * Whether .gitignore covers `path` through one of its folder patterns: unanchored ones (`.tmp/`)
 * match a folder of that name anywhere, anchored ones (`bench/.out/`) only from the root.
 */
const ignoredByGit = async (path: string): Promise<boolean> => {
  const folders = path.split('/').slice(0, -1);
  const patterns = (await readFile('.gitignore', 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.endsWith('/') && !line.startsWith('#'))
    .map((line) => line.replace(/^\/|\/$/g, ''));
  return patterns.some((pattern) =>
    pattern.includes('/')
      ? `${folders.join('/')}/`.startsWith(`${pattern}/`)
      : folders.includes(pattern),
  );
};

describe('npm run events', () => {
  it('writes freshly signed events where git does not look, and leaves the committed ones as they are', async () => {
    const committed = await contents('events');
    const lines: string[] = [];
    const out = await runEventsCli(['--at', '2026-03-04T05:06:07Z'], (line) => lines.push(line));

    expect(out).toBe(SIGNED_EVENTS_DIR);
    expect(await ignoredByGit(`${out}/clerk.user-updated.json`)).toBe(true);
    expect(await contents('events')).toEqual(committed);
    // One signed file for every committed fixture, under the same name.
    expect((await readdir(out)).sort()).toEqual(Object.keys(committed));
    const clerk = JSON.parse(
      await readFile(join(out, 'clerk.user-updated.json'), 'utf8'),
    ) as APIGatewayProxyEventV2;
    expect(clerk.headers['svix-timestamp']).toBe(String(Date.parse('2026-03-04T05:06:07Z') / 1000));
    expect(lines).toEqual([
      `${Object.keys(committed).length} events in ${SIGNED_EVENTS_DIR}/, signed at 2026-03-04T05:06:07.000Z (Clerk accepts them for 5 minutes, WorkOS for 3).`,
    ]);
  });

  it('writes into the folder --out names', async () => {
    const out = await mkdtemp(join(tmpdir(), 'events-cli-'));
    try {
      expect(await runEventsCli(['--out', out], () => {})).toBe(out);
      expect(await readdir(out)).toContain('queue.clerk-queued.json');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses a time it cannot read', async () => {
    await expect(runEventsCli(['--at', 'yesterday'], () => {})).rejects.toThrow(RangeError);
  });
});
