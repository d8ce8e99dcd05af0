import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSeed } from '../../emulator/server.ts';
import type { UserChange } from '../../lib/change.ts';
import { applyUpdate } from '../../lib/ciam/apply.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { createUserResolver, type ResolvableConnection } from '../../lib/ciam/resolve.ts';
import type { CiamApi, ListUserByPropertyRequest } from '../../lib/ciam/types.ts';
import type { MappingConfig, ResolveStrategy } from '../../lib/config/types.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { UpstreamError } from '../../lib/tencent/errors.ts';
import { EMULATOR_CREDENTIALS, useEmulator } from '../helpers/emulator.ts';

// A second "ext-alice" makes IndexedAttribute1 ambiguous for that value.
const seed = loadSeed('emulator/seed.json');
const store = seed.userStores[0];
if (store?.Users === undefined) throw new Error('seed without users');
store.Users.push({ UserId: 'demo-user-4', UserName: 'alice2', IndexedAttribute1: 'ext-dup' });
store.Users.push({ UserId: 'demo-user-5', UserName: 'alice3', IndexedAttribute1: 'ext-dup' });

const emulator = useEmulator({ seed }, { resetBeforeEach: true });

const ciam = (): CiamApi =>
  createCiamClient(
    createTencentClient({
      fetch,
      now: Date.now,
      endpoint: emulator().url,
      credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
    }),
  );

const connection = (
  resolve: ResolveStrategy,
  mapping: MappingConfig = {},
): ResolvableConnection & { mapping: MappingConfig } => ({
  id: 'test',
  userStoreId: 'local-store',
  resolve,
  mapping,
});

const change = (subject: UserChange['subject']): UserChange => ({
  connectionId: 'test',
  eventId: 'evt-1',
  eventType: 'user.updated',
  occurredAt: '2025-01-01T00:00:00.000Z',
  subject,
  attributes: {},
  raw: {},
});

const lookups = () =>
  emulator().calls.filter((c) => c.action === 'DescribeUser' || c.action === 'ListUserByProperty')
    .length;

describe('user resolver', () => {
  it('finds a user by IndexedAttribute1 with a DescribeUser filter', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    const byIndex = connection({ by: 'indexedAttribute', index: 1 });
    await expect(resolver.resolve(byIndex, change({ externalId: 'ext-bob' }))).resolves.toBe(
      'demo-user-2',
    );
  });

  it('finds a user by email (case-insensitively) and by phone with ListUserByProperty', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    await expect(
      resolver.resolve(connection({ by: 'email' }), change({ email: 'Carol@Example.com' })),
    ).resolves.toBe('demo-user-3');
    await expect(
      resolver.resolve(connection({ by: 'phone' }), change({ phone: '+6581234568' })),
    ).resolves.toBe('demo-user-2');
  });

  it('looks a phone up in the E.164 form the mapping writes', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    // Stored as +6581234567 (emulator/seed.json).
    await expect(
      resolver.resolve(connection({ by: 'phone' }), change({ phone: '+65 8123 4567' })),
    ).resolves.toBe('demo-user-1');
    await expect(
      resolver.resolve(
        connection({ by: 'phone' }, { defaultPhoneRegion: 'SG' }),
        change({ phone: ' 8123-4568 ' }),
      ),
    ).resolves.toBe('demo-user-2');
  });

  it('answers USER_NOT_FOUND without a lookup for a phone the mapping would refuse', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    for (const phone of ['81234567', 'not a phone', '+65 8123 4567 ext. 12']) {
      const error = await resolver
        .resolve(connection({ by: 'phone' }), change({ phone }))
        .catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: 'USER_NOT_FOUND', details: { resolveBy: 'phone' } });
      expect(JSON.stringify(error) + String(error)).not.toContain('8123');
    }
    expect(lookups()).toBe(0);
  });

  it('takes the CIAM user id from the change without any lookup', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    await expect(
      resolver.resolve(connection({ by: 'userId' }), change({ ciamUserId: 'demo-user-1' })),
    ).resolves.toBe('demo-user-1');
    expect(lookups()).toBe(0);
  });

  it('answers USER_NOT_FOUND when nothing matches or the change lacks the key', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    const byIndex = connection({ by: 'indexedAttribute', index: 1 });
    await expect(
      resolver.resolve(byIndex, change({ externalId: 'ext-nobody' })),
    ).rejects.toMatchObject({ code: 'USER_NOT_FOUND', statusCode: 404 });
    await expect(resolver.resolve(byIndex, change({ email: 'a@b.c' }))).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
    });
    await expect(
      resolver.resolve(connection({ by: 'email' }), change({ email: 'nobody@example.com' })),
    ).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  it('answers USER_AMBIGUOUS when several users carry the key', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    await expect(
      resolver.resolve(
        connection({ by: 'indexedAttribute', index: 1 }),
        change({ externalId: 'ext-dup' }),
      ),
    ).rejects.toMatchObject({ code: 'USER_AMBIGUOUS', statusCode: 409 });
  });

  it('caches hits for the TTL, refetches after it, and never caches misses', async () => {
    let now = 1_000_000;
    const resolver = createUserResolver({ ciam: ciam(), now: () => now });
    const byIndex = connection({ by: 'indexedAttribute', index: 1, cacheTtlSeconds: 60 });
    await resolver.resolve(byIndex, change({ externalId: 'ext-bob' }));
    await resolver.resolve(byIndex, change({ externalId: 'ext-bob' }));
    expect(lookups()).toBe(1);
    now += 61_000;
    await resolver.resolve(byIndex, change({ externalId: 'ext-bob' }));
    expect(lookups()).toBe(2);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(
        resolver.resolve(byIndex, change({ externalId: 'ext-x' })),
      ).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    }
    expect(lookups()).toBe(4);
  });

  it('forgets a cached lookup on request', async () => {
    const resolver = createUserResolver({ ciam: ciam(), now: Date.now });
    const byIndex = connection({ by: 'indexedAttribute', index: 1 });
    await resolver.resolve(byIndex, change({ externalId: 'ext-bob' }));
    resolver.forget(byIndex, change({ externalId: 'ext-bob' }));
    await resolver.resolve(byIndex, change({ externalId: 'ext-bob' }));
    expect(lookups()).toBe(2);
  });
});

describe('user resolver by phone, with a fake CIAM', () => {
  const recording = (stored: Record<string, string>) => {
    const sent: string[] = [];
    const fake: Pick<CiamApi, 'describeUser' | 'listUserByProperty'> = {
      describeUser: async () => ({ Total: 0, Content: [], RequestId: 'r' }),
      listUserByProperty: async (request: ListUserByPropertyRequest) => {
        sent.push(request.PropertyValue);
        const userId = stored[request.PropertyValue];
        return { Users: userId === undefined ? [] : [{ UserId: userId }], RequestId: 'r' };
      },
    };
    return { sent, resolver: createUserResolver({ ciam: fake, now: Date.now }) };
  };

  it('looks up the international form when the mapping writes it', async () => {
    const { sent, resolver } = recording({ '+65 81234567': 'u-intl' });
    const byPhone = connection({ by: 'phone' }, { phoneFormat: 'international' });
    await expect(resolver.resolve(byPhone, change({ phone: '+6581234567' }))).resolves.toBe(
      'u-intl',
    );
    expect(sent).toEqual(['+65 81234567']);
  });

  it('caches by the normalised phone, so spellings of one number share an entry', async () => {
    const { sent, resolver } = recording({ '+6581234567': 'u-1' });
    const byPhone = connection({ by: 'phone' });
    await resolver.resolve(byPhone, change({ phone: '+65 8123 4567' }));
    await resolver.resolve(byPhone, change({ phone: '+6581234567' }));
    expect(sent).toEqual(['+6581234567']);
  });

  it('sends the value the mapping writes into PhoneNumber, for either format', async () => {
    const phones = fc.oneof(
      fc.constantFrom('+65 8123 4567', '8123 4567', '+86 138 0000 0000', '138-0000-0000'),
      fc
        .tuple(fc.constantFrom('+1', '+44', '+65', '+86', ''), fc.stringMatching(/^\d{7,11}$/))
        .map(([code, digits]) => `${code} ${digits}`),
    );
    const mappings = fc.record(
      {
        phoneFormat: fc.constantFrom('e164' as const, 'international' as const),
        defaultPhoneRegion: fc.constantFrom('SG', 'CN', 'gb'),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(phones, mappings, async (phone, mapping) => {
        const byPhone = connection({ by: 'phone' }, mapping);
        const mapped = await compileMapping(byPhone)
          .map({ ...change({ phone }), attributes: { phone } })
          .then(
            (draft) => draft.PhoneNumber,
            () => undefined,
          );
        const { sent, resolver } = recording({});
        const resolved = await resolver
          .resolve(byPhone, change({ phone }))
          .catch((error: { code: string }) => error.code);
        // A phone the mapping refuses is never looked up; any other is looked up as written.
        expect(resolved).toBe('USER_NOT_FOUND');
        expect(sent).toEqual(mapped === undefined ? [] : [mapped]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('applyUpdate', () => {
  it('applies the draft to the resolved user and returns the upstream RequestId', async () => {
    const api = ciam();
    const resolver = createUserResolver({ ciam: api, now: Date.now });
    const applied = await applyUpdate(
      { ciam: api, resolver },
      connection({ by: 'indexedAttribute', index: 1 }),
      {
        change: change({ externalId: 'ext-bob' }),
        draft: { UserStoreId: 'local-store', Nickname: 'B' },
      },
    );
    expect(applied).toMatchObject({
      status: 'applied',
      eventId: 'evt-1',
      userId: 'demo-user-2',
      requestId: expect.stringMatching(/\S/),
    });
    const { User } = await api.describeUserById({
      UserStoreId: 'local-store',
      UserId: 'demo-user-2',
    });
    expect(User?.Nickname).toBe('B');
  });

  it('re-resolves once when CIAM no longer knows the cached user', async () => {
    // In-memory fake of CiamApi: the cached user disappears, the lookup then finds a new one.
    let owner = 'old-id';
    const updated: string[] = [];
    const fake: Pick<
      CiamApi,
      'updateUser' | 'describeUser' | 'listUserByProperty' | 'describeUserById'
    > = {
      describeUserById: async () => ({ User: null, RequestId: 'r' }),
      describeUser: async () => ({ Total: 1, Content: [{ UserId: owner }], RequestId: 'r' }),
      listUserByProperty: async () => ({ Users: [], RequestId: 'r' }),
      updateUser: async (request) => {
        if (request.UserId === 'old-id') {
          throw new UpstreamError({
            upstreamCode: 'FailedOperation.UserNotFound',
            action: 'UpdateUser',
          });
        }
        updated.push(request.UserId);
        return { User: null, RequestId: 'req-2' };
      },
    };
    const resolver = createUserResolver({ ciam: fake, now: Date.now });
    const byIndex = connection({ by: 'indexedAttribute', index: 1 });
    await resolver.resolve(byIndex, change({ externalId: 'ext-1' }));
    owner = 'new-id';
    const applied = await applyUpdate({ ciam: fake, resolver }, byIndex, {
      change: change({ externalId: 'ext-1' }),
      draft: { UserStoreId: 'local-store' },
    });
    expect(applied).toEqual({
      status: 'applied',
      eventId: 'evt-1',
      userId: 'new-id',
      requestId: 'req-2',
    });
    expect(updated).toEqual(['new-id']);

    owner = 'old-id';
    resolver.forget(byIndex, change({ externalId: 'ext-1' }));
    await expect(
      applyUpdate({ ciam: fake, resolver }, byIndex, {
        change: change({ externalId: 'ext-1' }),
        draft: { UserStoreId: 'local-store' },
      }),
    ).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
      upstreamCode: 'FailedOperation.UserNotFound',
    });
  });
});
