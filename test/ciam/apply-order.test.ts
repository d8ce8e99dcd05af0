import { describe, expect, it } from 'vitest';
import {
  type ApplyDeps,
  type ApplyTarget,
  applyUpdate,
  createKeyedLock,
  type KeyedLock,
  type PlannedUpdate,
} from '../../lib/ciam/apply.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { connectionTag } from '../../lib/ciam/field-clocks.ts';
import { createUserResolver } from '../../lib/ciam/resolve.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { EMULATOR_CREDENTIALS, useEmulator } from '../helpers/emulator.ts';

const emulator = useEmulator({ port: 0, rateLimit: 1000 }, { resetBeforeEach: true });

const setup = (timeoutMs = 5000) => {
  const ciam = createCiamClient(
    createTencentClient({
      fetch,
      now: Date.now,
      timeoutMs,
      endpoint: emulator().url,
      credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
    }),
  );
  return { ciam, resolver: createUserResolver({ ciam, now: Date.now }) };
};

const target: ApplyTarget = {
  id: 'clerk',
  userStoreId: 'local-store',
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  guard: {
    attribute: 'adapter_field_clocks',
    type: 'STRING',
    connection: connectionTag('clerk'),
    authorityOf: () => undefined,
    legacy: [],
  },
};

const change = (eventId: string, second: number, nickname: string): PlannedUpdate => ({
  change: {
    eventId,
    eventType: 'user.updated',
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString(),
    subject: { externalId: 'ext-alice' },
  },
  draft: { UserStoreId: 'local-store', Nickname: nickname },
});

const nickname = async (ciam: ReturnType<typeof setup>['ciam']) =>
  (await ciam.describeUserById({ UserStoreId: 'local-store', UserId: 'demo-user-1' })).User
    ?.Nickname;

const updateCalls = () => emulator().calls.filter((call) => call.action === 'UpdateUser');

describe('applyUpdate with the stale-event guard (CIAM emulator over HTTP)', () => {
  it('skips a change older than the last applied one, without writing', async () => {
    const deps = setup();
    await expect(applyUpdate(deps, target, change('e2', 2, 'newer'))).resolves.toMatchObject({
      status: 'applied',
    });
    await expect(applyUpdate(deps, target, change('e1', 1, 'older'))).resolves.toEqual({
      status: 'ignored',
      eventId: 'e1',
      userId: 'demo-user-1',
      reason: 'stale',
      skipped: [{ field: 'Nickname', verdict: 'stale' }],
    });
    expect(await nickname(deps.ciam)).toBe('newer');
    expect(updateCalls()).toHaveLength(1);
  });

  it('applies a redelivered event once, however many times it arrives', async () => {
    const deps = setup();
    const results = [];
    for (let i = 0; i < 5; i += 1)
      results.push(await applyUpdate(deps, target, change('e', 1, 'x')));
    expect(results.map((r) => r.status)).toEqual([
      'applied',
      'ignored',
      'ignored',
      'ignored',
      'ignored',
    ]);
    expect(results.slice(1).every((r) => r.status === 'ignored' && r.reason === 'duplicate')).toBe(
      true,
    );
    expect(updateCalls()).toHaveLength(1);
  });

  it('ends with the newest change when concurrent deliveries race, with the per-user lock', async () => {
    const base = setup();
    const seconds = [5, 3, 9, 1, 7, 2, 8, 4, 6];
    // A read is held until no other racer can still get in before its write: each other one has
    // finished, waits for the lock, or has read too. Without the lock every racer then reads the
    // old watermark before anyone writes; with it, the reader is alone. No timing involved.
    let waiting = 0;
    let reading = 0;
    let finished = 0;
    const heldReads = new Set<() => void>();
    const recheck = () => {
      if (waiting + reading + finished < seconds.length) return;
      for (const release of heldReads) release();
      heldReads.clear();
    };
    const keyed = createKeyedLock();
    const lock: KeyedLock = (key, task) => {
      waiting += 1;
      recheck();
      return keyed(key, () => {
        waiting -= 1;
        return task();
      });
    };
    const written: string[] = [];
    const ciam: ApplyDeps['ciam'] = {
      describeUserById: async (...args) => {
        const answer = await base.ciam.describeUserById(...args);
        reading += 1;
        await new Promise<void>((release) => {
          heldReads.add(release);
          recheck();
        });
        reading -= 1;
        return answer;
      },
      updateUser: (request, options) => {
        written.push(String(request.Nickname));
        return base.ciam.updateUser(request, options);
      },
    };
    const deps = { ciam, resolver: base.resolver, lock };
    await Promise.all(
      seconds.map((s) =>
        applyUpdate(deps, target, change(`e${s}`, s, `n${s}`)).finally(() => {
          finished += 1;
          recheck();
        }),
      ),
    );
    // Each write is newer than the one before it: no racer wrote over a newer change.
    const order = written.map((name) => Number(name.slice(1)));
    expect(order).toEqual([...new Set(order)].sort((a, b) => a - b));
    expect(await nickname(base.ciam)).toBe('n9');
  });

  it('keeps custom attributes the user already had when a change writes its own', async () => {
    const deps = setup();
    await deps.ciam.updateUser({
      UserStoreId: 'local-store',
      UserId: 'demo-user-1',
      CustomizationAttributes: [{ Name: 'plan', Value: 'pro', Type: 'STRING' }],
    });
    const planned = change('e1', 1, 'x');
    planned.draft.CustomizationAttributes = [{ Name: 'tier', Value: 'gold', Type: 'STRING' }];
    await applyUpdate(deps, target, planned);
    const { User } = await deps.ciam.describeUserById({
      UserStoreId: 'local-store',
      UserId: 'demo-user-1',
    });
    expect(User?.CustomAttributes).toEqual([
      { Name: 'plan', Value: 'pro', Type: 'STRING' },
      { Name: 'tier', Value: 'gold', Type: 'STRING' },
      {
        Name: 'adapter_field_clocks',
        // One clock, this change's, for Nickname and the custom attribute it wrote.
        Value: expect.stringMatching(/^2\|[0-9a-z]+\.[\w-]{5}\.[\w-]{8}\|n0,~[\w-]{6}0$/),
        Type: 'STRING',
      },
    ]);
  });

  it('without a guard and without custom attributes, writes at once (one call, no read)', async () => {
    const deps = setup();
    const { guard: _guard, ...unguarded } = target;
    await applyUpdate(deps, unguarded, change('e1', 1, 'a'));
    await applyUpdate(deps, unguarded, change('e0', 0, 'b'));
    expect(await nickname(deps.ciam)).toBe('b');
    expect(emulator().calls.filter((c) => c.action === 'DescribeUserById')).toHaveLength(1);
  });
});

describe('applyUpdate when an attempt times out but lands late', () => {
  it('reports lateWritePossible when a retried attempt may still be written', async () => {
    const deps = setup(150);
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 400 }],
      actions: ['UpdateUser'],
    });
    const result = await applyUpdate(deps, target, change('e1', 1, 'slow'));
    expect(result).toMatchObject({ status: 'applied', lateWritePossible: true });
    // It was possible indeed: the abandoned attempt lands after the answered retry.
    await emulator().idle();
    expect(updateCalls().filter((call) => call.code === undefined)).toEqual([
      expect.not.objectContaining({ fault: 'latency' }),
      expect.objectContaining({ fault: 'latency' }),
    ]);
  });

  it('reports the outcome unknown (retryable) when the write then fails for good', async () => {
    const deps = setup(150);
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 400 }, 'InvalidParameterValue'],
      actions: ['UpdateUser'],
    });
    await expect(applyUpdate(deps, target, change('e1', 1, 'late'))).rejects.toMatchObject({
      code: 'UPSTREAM_OUTCOME_UNKNOWN',
      retryable: true,
      statusCode: 503,
    });
    // The abandoned attempt lands after all: a retry then finds it applied.
    await emulator().idle();
    expect(await nickname(deps.ciam)).toBe('late');
    await expect(applyUpdate(deps, target, change('e1', 1, 'late'))).resolves.toMatchObject({
      status: 'ignored',
      reason: 'duplicate',
    });
  });

  it('does not report it when every attempt was answered', async () => {
    const deps = setup();
    emulator().faults.configure({ script: ['InternalError'], actions: ['UpdateUser'] });
    const result = await applyUpdate(deps, target, change('e1', 1, 'x'));
    expect(result).toMatchObject({ status: 'applied' });
    expect(result).not.toHaveProperty('lateWritePossible');
  });
});

describe('createKeyedLock', () => {
  it('runs tasks of one key one after another and other keys alongside', async () => {
    const lock = createKeyedLock();
    const log: string[] = [];
    const task = (name: string, key: string) =>
      lock(key, async () => {
        log.push(`start ${name}`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`end ${name}`);
      });
    await Promise.all([task('a1', 'a'), task('a2', 'a'), task('b1', 'b')]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('goes on with the next task after one fails', async () => {
    const lock = createKeyedLock();
    const failed = lock('k', async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(lock('k', async () => 'next')).resolves.toBe('next');
  });
});

describe('applyUpdate with group memberships (CIAM emulator over HTTP)', () => {
  const membership = (
    eventId: string,
    second: number,
    groupId: string,
    member: boolean,
  ): PlannedUpdate => ({
    ...change(eventId, second, 'unused'),
    draft: { UserStoreId: 'local-store' },
    memberships: [{ groupId, member }],
  });
  const groups = async (ciam: ReturnType<typeof setup>['ciam']) =>
    (await ciam.describeUserById({ UserStoreId: 'local-store', UserId: 'demo-user-1' })).User
      ?.UserGroups ?? [];

  it('merges each membership into the user’s groups, and a late older one never undoes a newer', async () => {
    const deps = setup();
    const before = await groups(deps.ciam);
    await expect(
      applyUpdate(deps, target, membership('add-staff', 9, 'group-staff', true)),
    ).resolves.toMatchObject({ status: 'applied', fields: ['group:group-staff'] });
    await expect(
      applyUpdate(deps, target, membership('add-admins', 5, 'group-admins', true)),
    ).resolves.toMatchObject({ status: 'applied' });
    // Removed before it was added, delivered late: a stale removal changes nothing.
    await expect(
      applyUpdate(deps, target, membership('remove-staff', 4, 'group-staff', false)),
    ).resolves.toMatchObject({ status: 'ignored', reason: 'stale' });
    expect([...(await groups(deps.ciam))].sort()).toEqual(
      [...new Set([...before, 'group-admins', 'group-staff'])].sort(),
    );
    // A newer removal removes only that group, and leaves a tombstone a late add cannot undo.
    await applyUpdate(deps, target, membership('remove-admins', 20, 'group-admins', false));
    await expect(
      applyUpdate(deps, target, membership('late-add-admins', 6, 'group-admins', true)),
    ).resolves.toMatchObject({ status: 'ignored', reason: 'stale' });
    expect(await groups(deps.ciam)).toContain('group-staff');
    expect(await groups(deps.ciam)).not.toContain('group-admins');
  });
});
