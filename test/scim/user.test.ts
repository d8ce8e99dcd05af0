import { describe, expect, it } from 'vitest';
import type { CiamUser } from '../../lib/ciam/types.ts';
import type { Connection } from '../../lib/config/types.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { DEFAULT_NAME_ATTRIBUTES } from '../../lib/scim/names.ts';
import { CORE_USER_SCHEMA, type ScimObject } from '../../lib/scim/patch.ts';
import {
  changedFields,
  externalIdField,
  toScimUser,
  toUserChange,
  withExternalId,
} from '../../lib/scim/user.ts';

type MappedConnection = Pick<Connection, 'id' | 'userStoreId' | 'resolve' | 'mapping'>;

const byIndex = (index: 1 | 2 | 3 | 4 | 5, mapping: Connection['mapping'] = {}) =>
  ({
    id: 'scim',
    userStoreId: 'local-store',
    resolve: { by: 'indexedAttribute', index },
    mapping,
  }) satisfies MappedConnection;

const byEmail: MappedConnection = {
  id: 'scim',
  userStoreId: 'local-store',
  resolve: { by: 'email' },
  mapping: {},
};

const META = { eventId: 'evt-1', occurredAt: '2025-01-02T03:04:05.000Z' };

const alice: CiamUser = {
  UserId: 'u-1',
  UserName: 'alice',
  Email: 'alice@example.com',
  PhoneNumber: '+6581234567',
  Nickname: 'Alice L',
  Address: '1 Main St',
  IndexedAttribute1: 'ext-alice',
  IndexedAttribute3: 'other-index',
  Status: 'NORMAL',
  CreatedDate: Date.UTC(2024, 0, 1),
  LastModifiedDate: Date.UTC(2024, 5, 30, 12),
};

const codeOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('scim/user externalIdField', () => {
  it('names the IndexedAttribute the connection resolves by, and nothing for other strategies', () => {
    expect(externalIdField(byIndex(1))).toBe('IndexedAttribute1');
    expect(externalIdField(byIndex(4))).toBe('IndexedAttribute4');
    expect(externalIdField(byEmail)).toBeUndefined();
    expect(externalIdField({ resolve: { by: 'userId' } })).toBeUndefined();
  });
});

describe('scim/user toScimUser (CIAM → SCIM)', () => {
  it('renders every field CIAM holds, dates as ISO and the location given', () => {
    expect(toScimUser(byIndex(1), alice, 'https://h/scim/v2/scim/Users/u-1')).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
      externalId: 'ext-alice',
      userName: 'alice',
      displayName: 'Alice L',
      emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+6581234567', type: 'mobile', primary: true }],
      addresses: [{ formatted: '1 Main St', type: 'work' }],
      active: true,
      meta: {
        resourceType: 'User',
        created: '2024-01-01T00:00:00.000Z',
        lastModified: '2024-06-30T12:00:00.000Z',
        location: 'https://h/scim/v2/scim/Users/u-1',
      },
    });
  });

  it('reads externalId from the connection’s own IndexedAttribute only', () => {
    expect(toScimUser(byIndex(3), alice).externalId).toBe('other-index');
    expect(toScimUser(byIndex(2), alice)).not.toHaveProperty('externalId');
    expect(toScimUser(byEmail, alice)).not.toHaveProperty('externalId');
  });

  it('leaves out what CIAM holds empty or not at all, and dates that are not epoch numbers', () => {
    const bare = toScimUser(byIndex(1), {
      UserId: 'u-2',
      UserName: '',
      Email: '',
      IndexedAttribute1: '',
      CreatedDate: Number.NaN,
      LastModifiedDate: '2024-01-01' as unknown as number,
    });
    expect(bare).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-2',
      active: true,
      meta: { resourceType: 'User' },
    });
  });

  it('renders name from the custom attributes the connection keeps it in, and no other', () => {
    const named: CiamUser = {
      ...alice,
      CustomAttributes: [
        { Name: 'adapter_field_clocks', Value: 'v2;…' },
        { Name: 'adapter_watermark_scim', Value: 'v1;1;e' },
        { Name: 'given_name', Value: 'Alice' },
        { Name: 'family_name', Value: 'Liddell' },
        { Name: 'site', Value: 'SG' },
      ],
    };
    const rendered = toScimUser(byIndex(1), named, undefined, DEFAULT_NAME_ATTRIBUTES);
    expect(rendered.name).toEqual({ familyName: 'Liddell', givenName: 'Alice' });
    expect(Object.keys(rendered).slice(0, 5)).toEqual([
      'schemas',
      'id',
      'externalId',
      'userName',
      'name',
    ]);
    // Nothing else of the custom attributes, the clocks least of all, is ever a SCIM attribute.
    expect(JSON.stringify(rendered)).not.toMatch(/adapter_|v2;|SG/);
    // Without name attributes (or a user keeping none), no name.
    expect(toScimUser(byIndex(1), named)).not.toHaveProperty('name');
    expect(toScimUser(byIndex(1), alice, undefined, DEFAULT_NAME_ATTRIBUTES)).not.toHaveProperty(
      'name',
    );
  });

  it.each([
    ['NORMAL', true],
    [undefined, true],
    ['SOMETHING_NEW', true],
    ['FREEZE', false],
    ['LOCK', false],
  ])('reads CIAM status %s as active: %s', (Status, active) => {
    expect(toScimUser(byIndex(1), { UserId: 'u', ...(Status ? { Status } : {}) }).active).toBe(
      active,
    );
  });
});

describe('scim/user toUserChange (SCIM → canonical change)', () => {
  const full: ScimObject = {
    schemas: [CORE_USER_SCHEMA],
    id: 'u-1',
    externalId: 'ext-9',
    userName: 'jane',
    nickName: 'JJ',
    displayName: 'Jane Doe',
    name: { givenName: 'Jane', familyName: 'Doe' },
    emails: [
      { value: 'home@example.com', type: 'home', primary: true },
      { value: 'jane@example.com', type: 'Work' },
    ],
    phoneNumbers: [
      { value: '+6590000001', type: 'work' },
      { value: '+6590000002', type: 'mobile' },
    ],
    addresses: [{ type: 'work', formatted: '2 Side St' }],
    active: true,
  };

  it('fills the canonical attributes and subject, keeping the SCIM user as raw', () => {
    const change = toUserChange('scim', full, { ...META, ciamUserId: 'u-1' });
    expect(change).toEqual({
      connectionId: 'scim',
      eventId: 'evt-1',
      eventType: 'scim.user',
      occurredAt: META.occurredAt,
      subject: {
        externalId: 'ext-9',
        email: 'jane@example.com',
        phone: '+6590000002',
        userName: 'jane',
        ciamUserId: 'u-1',
      },
      attributes: {
        userName: 'jane',
        email: 'jane@example.com',
        phone: '+6590000002',
        nickname: 'JJ',
        displayName: 'Jane Doe',
        givenName: 'Jane',
        familyName: 'Doe',
        address: '2 Side St',
      },
      raw: full,
    });
  });

  it('picks the work email, then the primary, then the first; mobile, then work phone', () => {
    const pick = (user: ScimObject) => toUserChange('scim', user, META).subject;
    expect(
      pick({
        emails: [
          { value: 'a@x.io', type: 'home' },
          { value: 'b@x.io', primary: true },
        ],
        phoneNumbers: [
          { value: '+6510000001', type: 'home' },
          { value: '+6510000002', type: 'WORK' },
        ],
      }),
    ).toEqual({ email: 'b@x.io', phone: '+6510000002' });
    expect(
      pick({
        emails: [{ value: 'a@x.io', type: 'home' }, { value: 'c@x.io' }],
        phoneNumbers: [{ value: '+6510000003', type: 'fax' }],
      }),
    ).toEqual({ email: 'a@x.io', phone: '+6510000003' });
  });

  it('joins address parts when there is no formatted address', () => {
    const address = (addresses: unknown) =>
      toUserChange('scim', { addresses }, META).attributes.address;
    expect(
      address([
        { type: 'home', formatted: 'Home 1' },
        { type: 'work', streetAddress: '3 Quay', locality: 'Singapore', postalCode: '049483' },
      ]),
    ).toBe('3 Quay, Singapore, 049483');
    expect(address([{ type: 'work' }])).toBeUndefined();
    expect(address([])).toBeUndefined();
  });

  it('treats empty strings and nulls as absent, and leaves ciamUserId out unless given', () => {
    const change = toUserChange(
      'scim',
      {
        userName: '',
        externalId: null,
        displayName: null,
        name: null,
        emails: null,
        phoneNumbers: [{ value: '', type: 'mobile' }],
      },
      META,
    );
    expect(change.subject).toEqual({});
    expect(change.attributes).toEqual({});
  });

  it.each([
    ['name that is not an object', { name: 'Jane' }, 'name'],
    ['emails that is not an array', { emails: 'a@x.io' }, 'emails'],
    ['emails holding a string', { emails: ['a@x.io'] }, 'emails'],
    ['an email value that is not a string', { emails: [{ value: 5 }] }, 'emails.value'],
    ['active as a string', { active: 'true' }, 'active'],
    ['a userName that is not a string', { userName: 7 }, 'userName'],
    ['a givenName that is not a string', { name: { givenName: ['J'] } }, 'givenName'],
    [
      'a formatted address that is not a string',
      { addresses: [{ formatted: 1 }] },
      'addresses.formatted',
    ],
  ])('refuses %s with SCIM_INVALID_VALUE naming it', (_name, user, attribute) => {
    const error = codeOf(() => toUserChange('scim', user, META));
    expect(error).toMatchObject({ code: 'SCIM_INVALID_VALUE', statusCode: 400 });
    expect((error as Error).message).toContain(attribute);
  });
});

describe('scim/user withExternalId', () => {
  const change = (externalId?: string) =>
    toUserChange('scim', externalId === undefined ? {} : { externalId }, META);
  const draft = { UserStoreId: 'local-store', Email: 'a@x.io' };

  it('puts externalId into the connection’s IndexedAttribute', () => {
    expect(withExternalId(byIndex(2), draft, change('ext-1'))).toEqual({
      ...draft,
      IndexedAttribute2: 'ext-1',
    });
  });

  it('leaves the draft alone when the mapping sets or omits that field, or nothing holds it', () => {
    const cases = [
      withExternalId(byIndex(2, { fields: { IndexedAttribute2: '"x"' } }), draft, change('e')),
      withExternalId(byIndex(2, { omit: ['IndexedAttribute2'] }), draft, change('e')),
      withExternalId(byEmail, draft, change('e')),
      withExternalId(byIndex(2), draft, change()),
    ];
    for (const result of cases) expect(result).toEqual(draft);
  });
});

describe('scim/user changedFields', () => {
  it('keeps only the fields whose values differ, never UserStoreId', () => {
    expect(
      changedFields(
        {
          UserStoreId: 'other-store',
          UserName: 'alice',
          Email: 'new@example.com',
          Nickname: 'Alice L',
          IndexedAttribute1: 'ext-alice',
          Address: '9 New Rd',
        },
        alice,
      ),
    ).toEqual({ Email: 'new@example.com', Address: '9 New Rd' });
  });

  it('compares groups and orgs with CIAM’s plural names', () => {
    const user: CiamUser = { UserId: 'u', UserGroups: ['g1'], UserOrgs: ['o1'] };
    expect(changedFields({ UserStoreId: 's', UserGroup: ['g1'], UserOrg: ['o1'] }, user)).toEqual(
      {},
    );
    expect(changedFields({ UserStoreId: 's', UserGroup: ['g2'], UserOrg: ['o1'] }, user)).toEqual({
      UserGroup: ['g2'],
    });
  });

  it('compares custom attributes by name, keeping only the items that differ', () => {
    const user: CiamUser = {
      UserId: 'u',
      CustomAttributes: [
        { Name: 'dept', Value: 'Sales' },
        { Name: 'site', Value: 'SG' },
      ],
    };
    const custom = (items: Array<{ Name: string; Value: string }>) =>
      changedFields({ UserStoreId: 's', CustomizationAttributes: items }, user);
    expect(
      custom([
        { Name: 'dept', Value: 'Sales' },
        { Name: 'site', Value: 'MY' },
        { Name: 'badge', Value: '7' },
      ]),
    ).toEqual({
      CustomizationAttributes: [
        { Name: 'site', Value: 'MY' },
        { Name: 'badge', Value: '7' },
      ],
    });
    expect(custom([{ Name: 'dept', Value: 'Sales' }])).toEqual({});
    expect(
      changedFields(
        { UserStoreId: 's', CustomizationAttributes: [{ Name: 'a', Value: '1' }] },
        { UserId: 'u' },
      ),
    ).toEqual({ CustomizationAttributes: [{ Name: 'a', Value: '1' }] });
  });
});

describe('scim/user both ways through the default mapping', () => {
  const connection = byIndex(1);
  const mapper = compileMapping(connection);
  const back = async (scim: ScimObject) => {
    const change = toUserChange(connection.id, scim, META);
    return withExternalId(connection, await mapper.map(change), change);
  };

  it('maps a rendered CIAM user back to the values CIAM holds: nothing to write', async () => {
    const draft = await back(toScimUser(connection, alice));
    expect(draft).toEqual({
      UserStoreId: 'local-store',
      UserName: 'alice',
      PhoneNumber: '+6581234567',
      Email: 'alice@example.com',
      Nickname: 'Alice L',
      Address: '1 Main St',
      IndexedAttribute1: 'ext-alice',
    });
    expect(changedFields(draft, alice)).toEqual({});
  });

  it('turns one changed SCIM attribute into exactly one changed CIAM field', async () => {
    const scim = toScimUser(connection, alice);
    expect(changedFields(await back({ ...scim, externalId: 'ext-new' }), alice)).toEqual({
      IndexedAttribute1: 'ext-new',
    });
    expect(
      changedFields(
        await back({ ...scim, phoneNumbers: [{ value: '+65 9000 0000', type: 'mobile' }] }),
        alice,
      ),
    ).toEqual({ PhoneNumber: '+6590000000' });
  });
});
