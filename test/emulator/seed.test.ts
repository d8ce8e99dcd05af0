import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED_PATH } from '../../emulator/seed.ts';
import { loadSeed, parseSeed } from '../../emulator/server.ts';

const minimal = () => ({
  credentials: [{ SecretId: 'AKIDa', SecretKey: 'k' }],
  userStores: [
    {
      UserStoreId: 's',
      UserGroups: [{ UserGroupId: 'g' }],
      Users: [{ UserId: 'u1', UserName: 'n1', Email: 'a@example.com', UserGroups: ['g'] }],
    },
  ],
});

describe('emulator/seed', () => {
  it('loads the bundled seed with the documented demo data', () => {
    const seed = loadSeed(DEFAULT_SEED_PATH);
    expect(seed.credentials).toEqual([
      { SecretId: 'AKIDlocaldemo', SecretKey: 'localdemosecret', TenantId: 'local-tenant' },
      { SecretId: 'AKIDacmedemo', SecretKey: 'acmedemosecret', TenantId: 'acme-tenant' },
    ]);
    const store = seed.userStores.find((s) => s.UserStoreId === 'local-store');
    expect(store?.UserGroups?.map((g) => [g.UserGroupId, g.DisplayName])).toEqual([
      ['group-staff', 'Staff'],
      ['group-admins', 'Admins'],
    ]);
    expect(
      store?.Users?.map((u) => [u.UserId, u.UserName, u.Email, u.PhoneNumber, u.IndexedAttribute1]),
    ).toEqual([
      ['demo-user-1', 'alice', 'alice@example.com', '+6581234567', 'ext-alice'],
      ['demo-user-2', 'bob', 'bob@example.com', '+6581234568', 'ext-bob'],
      ['demo-user-3', 'carol', 'carol@example.com', undefined, 'ext-carol'],
    ]);
    // The second demo tenant: its own account, store and users.
    const acme = seed.userStores.find((s) => s.UserStoreId === 'acme-store');
    expect(acme?.TenantId).toBe('acme-tenant');
    expect(acme?.Users?.map((u) => [u.UserId, u.IndexedAttribute1])).toEqual([
      ['acme-user-1', 'ext-dana'],
      ['acme-user-2', 'ext-erik'],
    ]);
  });

  it('accepts a minimal valid seed', () => {
    expect(parseSeed(minimal())).toEqual(minimal());
  });

  it('accepts groups in CIAM’s UserGroup shape, a tenant, and one name in two stores', () => {
    const seed = {
      credentials: [{ SecretId: 'AKIDa', SecretKey: 'k' }],
      userStores: [
        {
          UserStoreId: 's',
          TenantId: 't',
          UserGroups: [
            {
              UserGroupId: 'g',
              DisplayName: 'Staff',
              Description: 'd',
              CreatedDate: 1,
              LastModifyDate: 2,
            },
          ],
        },
        { UserStoreId: 's2', UserGroups: [{ UserGroupId: 'g', DisplayName: 'Staff' }] },
      ],
    };
    expect(parseSeed(seed)).toEqual(seed);
  });

  it.each<[string, (seed: ReturnType<typeof minimal>) => unknown]>([
    ['credentials are missing', ({ userStores }) => ({ userStores })],
    ['a top-level key is unknown', (seed) => ({ ...seed, extra: 1 })],
    [
      'a SecretKey is empty',
      (seed) => ({ ...seed, credentials: [{ SecretId: 'a', SecretKey: '' }] }),
    ],
    [
      'a user has an unknown field',
      (seed) => {
        const store = seed.userStores[0];
        if (store) store.Users = [{ UserId: 'u1', Foo: 1 } as never];
        return seed;
      },
    ],
    [
      'Birthdate is not an integer',
      (seed) => {
        const store = seed.userStores[0];
        if (store) store.Users = [{ UserId: 'u1', Birthdate: '2000-01-01' } as never];
        return seed;
      },
    ],
    [
      'user ids repeat',
      (seed) => {
        const store = seed.userStores[0];
        if (store) store.Users = [{ UserId: 'u1' }, { UserId: 'u1' }] as never;
        return seed;
      },
    ],
    [
      'emails repeat',
      (seed) => {
        const store = seed.userStores[0];
        if (store)
          store.Users = [
            { UserId: 'u1', Email: 'a@x.io' },
            { UserId: 'u2', Email: 'A@x.io' },
          ] as never;
        return seed;
      },
    ],
    [
      'two groups of a store share a DisplayName',
      (seed) => {
        const store = seed.userStores[0];
        if (store)
          store.UserGroups = [
            { UserGroupId: 'g', DisplayName: 'Staff' },
            { UserGroupId: 'h', DisplayName: 'Staff' },
          ] as never;
        return seed;
      },
    ],
    [
      'a group’s LastModifyDate is not an integer',
      (seed) => {
        const store = seed.userStores[0];
        if (store) store.UserGroups = [{ UserGroupId: 'g', LastModifyDate: 'today' }] as never;
        return seed;
      },
    ],
    [
      'a user references an unknown group',
      (seed) => {
        const store = seed.userStores[0];
        if (store) store.Users = [{ UserId: 'u1', UserGroups: ['nope'] }] as never;
        return seed;
      },
    ],
  ])('throws CONFIG_INVALID when %s', (_, mutate) => {
    expect(() => parseSeed(mutate(minimal()))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('keeps emails out of the error message', () => {
    const seed = minimal();
    const store = seed.userStores[0];
    if (store)
      store.Users = [
        { UserId: 'u1', Email: 'dup@x.io' },
        { UserId: 'u2', Email: 'dup@x.io' },
      ] as never;
    expect(() => parseSeed(seed)).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('dup@x.io') }),
    );
  });

  it('throws CONFIG_INVALID for unreadable or non-JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadSeed(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => loadSeed(join(dir, 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
