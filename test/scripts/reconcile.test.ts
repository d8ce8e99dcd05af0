import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceUser } from '../../local/reconcile.ts';
import { runReconcileCli } from '../../scripts/reconcile.ts';
import { EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const T1 = '2026-01-01T00:00:00.000Z';

describe('npm run reconcile -- --local', () => {
  // The demo seed: ext-alice, ext-bob and ext-carol on the demo connections' indexed attribute 1.
  const emulator = useEmulator({ rateLimit: 1000 }, { resetBeforeEach: true });
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-cli-'));
  const sourceFile = join(dir, 'clerk-users.json');
  writeFileSync(
    sourceFile,
    JSON.stringify([
      sourceUser('clerk', 'ext-alice', T1, {
        email: 'alice@example.com',
        nickname: 'Alice Liddell',
      }),
      sourceUser('clerk', 'ext-bob', T1, { email: 'bob@example.com' }),
      sourceUser('clerk', 'ext-dave', T1, { email: 'dave@example.com' }),
    ]),
  );
  afterAll(() => undefined);

  const env = () => ({ ...process.env, CIAM_EMULATOR_PORT: String(emulator().port) });

  it('plans in a child process: the plan file, masked lines and the last line', async () => {
    const out = join(dir, 'plan.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/reconcile.ts',
        '--connection',
        'clerk',
        '--local',
        '--source-file',
        sourceFile,
        '--out',
        out,
      ],
      { cwd: ROOT, env: env() },
    );
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe(
      'RECONCILE connection=clerk source_users=3 matched=2 unmatched=1 orphaned=0 changes=1 applied=0',
    );
    expect(stdout).toContain('change   ext-alice → demo-user-1  Nickname: (none) → A***');
    expect(stdout).not.toContain('Liddell');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(
      emulator().store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.Nickname,
    ).toBeUndefined();
  });

  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runReconcileCli(argv, {
      env: env(),
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out, err, last: out.at(-1) };
  };

  it('applies a saved plan; above the threshold it asks for --yes', async () => {
    const out = join(dir, 'saved.json');
    const base = ['--connection', 'clerk', '--local', '--source-file', sourceFile];
    expect((await run([...base, '--out', out])).code).toBe(0);

    const refused = await run([
      '--connection',
      'clerk',
      '--local',
      '--apply',
      out,
      '--max-changes',
      '0',
    ]);
    expect(refused.code, refused.err.join('\n')).toBe(3);
    expect(refused.err.join('\n')).toContain('pass --yes');
    expect(refused.last).toMatch(/ changes=1 applied=0$/);

    const applied = await run(['--connection', 'clerk', '--local', '--apply', out]);
    expect(applied.code).toBe(0);
    expect(applied.last).toMatch(/ changes=1 applied=1$/);
    expect(emulator().store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.Nickname).toBe(
      'Alice Liddell',
    );
    const again = await run([...base, '--apply', '--out', join(dir, 'again.json')]);
    expect(again.last).toBe(
      'RECONCILE connection=clerk source_users=3 matched=2 unmatched=1 orphaned=0 changes=0 applied=0',
    );
  });

  it('refuses bad usage with status 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--connection', 'clerk', '--max-changes', '-1'])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('--connection <id>');
  });
});
