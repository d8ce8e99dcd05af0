import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanonicalAttributes, UserChange, UserSubject } from '../../lib/change.ts';
import { MAPPABLE_FIELDS } from '../../lib/ciam/update-user-fields.ts';
import type { MappingConfig } from '../../lib/config/types.ts';
import { ValidationError } from '../../lib/errors.ts';
import { compileMapping } from '../../lib/mapping/index.ts';

const STORE = 'store-1';

const connection = (mapping: MappingConfig = {}) => ({
  id: 'conn-1',
  userStoreId: STORE,
  mapping,
});

const makeChange = (
  attributes: CanonicalAttributes,
  raw: unknown = {},
  subject: UserSubject = {},
): UserChange => ({
  connectionId: 'conn-1',
  eventId: 'evt_1',
  eventType: 'user.updated',
  occurredAt: '2024-06-01T00:00:00.000Z',
  subject,
  attributes,
  raw,
});

const clerkRaw = {
  id: 'user_2abc',
  username: 'jdoe',
  first_name: 'Jane',
  last_name: 'Doe',
  birthday: '1990-05-01',
  primary_email_address_id: 'idn_1',
  email_addresses: [{ id: 'idn_1', email_address: 'jane@example.com' }],
  primary_phone_number_id: 'idn_2',
  phone_numbers: [{ id: 'idn_2', phone_number: '+65 8123 4567' }],
  public_metadata: { tier: 'gold', score: 42, groups: 'grp-1', flags: { beta: true } },
  updated_at: 1717200000000,
};

const clerkChange = makeChange(
  {
    userName: 'jdoe',
    email: 'jane@example.com',
    phone: '+65 8123 4567',
    givenName: 'Jane',
    familyName: 'Doe',
    birthdate: '1990-05-01',
    custom: { tier: 'gold', score: 42, flags: { beta: true } },
  },
  clerkRaw,
  { externalId: 'user_2abc', email: 'jane@example.com' },
);

const workosRaw = {
  id: 'directory_user_01E1X',
  idp_id: '8931',
  directory_id: 'directory_01ECA',
  organization_id: 'org_01EHZ',
  first_name: 'Marcelina',
  last_name: 'Davis',
  email: 'marcelina@example.com',
  state: 'active',
  groups: [{ id: 'directory_group_01E', name: 'Engineering' }],
  custom_attributes: { department: 'Engineering', job_title: 'Software Engineer' },
};

const workosChange = makeChange(
  {
    email: 'marcelina@example.com',
    givenName: 'Marcelina',
    familyName: 'Davis',
    groups: ['directory_group_01E'],
    orgs: ['org_01EHZ'],
    custom: { department: 'Engineering', job_title: 'Software Engineer' },
  },
  workosRaw,
  { externalId: 'directory_user_01E1X', email: 'marcelina@example.com' },
);

const auth0Raw = {
  user_id: 'auth0|64f0c1',
  email: 'john@example.com',
  username: 'jsmith',
  nickname: 'jsmith',
  name: 'John Smith',
  phone_number: '138 0000 0000',
  user_metadata: { birthdate: '1985-12-24T00:00:00+08:00', address: '1 Main St' },
  app_metadata: { groups: ['admins'], org: 'org_1', plan: 'pro' },
};

const auth0Change = makeChange(
  {
    userName: 'jsmith',
    email: 'john@example.com',
    nickname: 'jsmith',
    displayName: 'John Smith',
    phone: '138 0000 0000',
    address: '1 Main St',
    birthdate: '1985-12-24T00:00:00+08:00',
    groups: ['admins'],
    orgs: ['org_1'],
    custom: { plan: 'pro' },
  },
  auth0Raw,
  { externalId: 'auth0|64f0c1', email: 'john@example.com' },
);

/** The ValidationError a mapping call threw, for inspecting `details`. */
const mapError = async (promise: Promise<unknown>): Promise<ValidationError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
};

const configError = (mapping: MappingConfig): unknown => {
  try {
    compileMapping(connection(mapping));
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('mapping', () => {
  describe('defaults', () => {
    it('maps a Clerk-like change', async () => {
      const draft = await compileMapping(connection()).map(clerkChange);
      expect(draft).toEqual({
        UserStoreId: STORE,
        UserName: 'jdoe',
        Email: 'jane@example.com',
        PhoneNumber: '+6581234567',
        Nickname: 'Jane Doe',
        Birthdate: Date.UTC(1990, 4, 1),
        CustomizationAttributes: [
          { Name: 'flags', Value: '{"beta":true}', Type: 'STRING' },
          { Name: 'score', Value: '42', Type: 'STRING' },
          { Name: 'tier', Value: 'gold', Type: 'STRING' },
        ],
      });
    });

    it('maps a WorkOS-like change without phone or birthdate', async () => {
      const draft = await compileMapping(connection()).map(workosChange);
      expect(draft).toEqual({
        UserStoreId: STORE,
        Email: 'marcelina@example.com',
        Nickname: 'Marcelina Davis',
        UserGroup: ['directory_group_01E'],
        UserOrg: ['org_01EHZ'],
        CustomizationAttributes: [
          { Name: 'department', Value: 'Engineering', Type: 'STRING' },
          { Name: 'job_title', Value: 'Software Engineer', Type: 'STRING' },
        ],
      });
    });

    it('maps an Auth0-like change with a national phone and the default region', async () => {
      const mapper = compileMapping(connection({ defaultPhoneRegion: 'cn' }));
      expect(await mapper.map(auth0Change)).toEqual({
        UserStoreId: STORE,
        UserName: 'jsmith',
        Email: 'john@example.com',
        PhoneNumber: '+8613800000000',
        Nickname: 'jsmith',
        Address: '1 Main St',
        Birthdate: Date.UTC(1985, 11, 24),
        UserGroup: ['admins'],
        UserOrg: ['org_1'],
        CustomizationAttributes: [{ Name: 'plan', Value: 'pro', Type: 'STRING' }],
      });
    });

    it('writes the international phone form when phoneFormat says so', async () => {
      const mapper = compileMapping(
        connection({ phoneFormat: 'international', defaultPhoneRegion: 'CN' }),
      );
      expect((await mapper.map(clerkChange)).PhoneNumber).toBe('+65 81234567');
      expect((await mapper.map(auth0Change)).PhoneNumber).toBe('+86 13800000000');
      const e164 = compileMapping(connection({ phoneFormat: 'e164' }));
      expect((await e164.map(clerkChange)).PhoneNumber).toBe('+6581234567');
    });

    it('picks the nickname, then the display name, then the given and family names', async () => {
      const mapper = compileMapping(connection());
      const nickname = async (attributes: CanonicalAttributes) =>
        (await mapper.map(makeChange(attributes))).Nickname;
      expect(await nickname({ nickname: 'nick', displayName: 'Display', givenName: 'G' })).toBe(
        'nick',
      );
      expect(await nickname({ nickname: '  ', displayName: 'Display', givenName: 'G' })).toBe(
        'Display',
      );
      expect(await nickname({ givenName: ' Given ', familyName: 'Family' })).toBe('Given Family');
      expect(await nickname({ familyName: 'Family' })).toBe('Family');
      expect(await nickname({ givenName: '', familyName: ' ' })).toBeUndefined();
    });

    it('sends only the user store for an empty change', async () => {
      expect(await compileMapping(connection()).map(makeChange({}))).toEqual({
        UserStoreId: STORE,
      });
    });

    it('uses the configured custom attribute Type', async () => {
      const draft = await compileMapping(connection({ customAttributeType: 'TEXT' })).map(
        makeChange({ custom: { a: 'b' } }),
      );
      expect(draft.CustomizationAttributes).toEqual([{ Name: 'a', Value: 'b', Type: 'TEXT' }]);
    });

    it('leaves IndexedAttributes unset', async () => {
      const draft = await compileMapping(connection()).map(clerkChange);
      for (const index of [1, 2, 3, 4, 5]) {
        expect(draft).not.toHaveProperty(`IndexedAttribute${index}`);
      }
    });
  });

  describe('omit', () => {
    it('never sends omitted fields', async () => {
      const draft = await compileMapping(
        connection({ omit: ['PhoneNumber', 'CustomizationAttributes'] }),
      ).map(clerkChange);
      expect(draft).not.toHaveProperty('PhoneNumber');
      expect(draft).not.toHaveProperty('CustomizationAttributes');
      expect(draft.Email).toBe('jane@example.com');
    });

    it('does not validate an omitted field', async () => {
      const mapper = compileMapping(connection({ omit: ['PhoneNumber'] }));
      const draft = await mapper.map(makeChange({ phone: 'not a phone', email: 'a@example.com' }));
      expect(draft).toEqual({ UserStoreId: STORE, Email: 'a@example.com' });
    });

    it('wins over an override of the same field', async () => {
      const mapper = compileMapping(
        connection({ omit: ['Address'], fields: { Address: '"somewhere"' } }),
      );
      expect(await mapper.map(clerkChange)).not.toHaveProperty('Address');
    });
  });

  describe('overrides', () => {
    it('reads the raw source object', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            IndexedAttribute1: 'raw.id',
            IndexedAttribute2: 'raw.public_metadata.tier',
            Email:
              'raw.email_addresses[id = $$.raw.primary_email_address_id].email_address & ".alt"',
          },
        }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft.IndexedAttribute1).toBe('user_2abc');
      expect(draft.IndexedAttribute2).toBe('gold');
      expect(draft.Email).toBe('jane@example.com.alt');
    });

    it('reads the change, subject and attributes', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            IndexedAttribute1: 'subject.externalId',
            IndexedAttribute2: 'change.eventType',
            Nickname: '$uppercase(attributes.givenName)',
          },
        }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft).toMatchObject({
        IndexedAttribute1: 'user_2abc',
        IndexedAttribute2: 'user.updated',
        Nickname: 'JANE',
      });
    });

    it('converts numbers with $string() and without it', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            IndexedAttribute1: '$string(raw.public_metadata.score)',
            IndexedAttribute2: 'raw.public_metadata.score * 2',
          },
        }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft.IndexedAttribute1).toBe('42');
      expect(draft.IndexedAttribute2).toBe('84');
    });

    it('evaluates conditional expressions', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            Address: 'raw.public_metadata.tier = "gold" ? "VIP lounge" : "lobby"',
            IndexedAttribute1: 'raw.public_metadata.tier = "silver" ? "silver"',
          },
        }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft.Address).toBe('VIP lounge');
      expect(draft).not.toHaveProperty('IndexedAttribute1');
      const other = await mapper.map(makeChange({}, { public_metadata: { tier: 'bronze' } }));
      expect(other.Address).toBe('lobby');
    });

    it('omits a field whose expression yields undefined, even when the default had a value', async () => {
      const mapper = compileMapping(
        connection({ fields: { Email: 'raw.missing', PhoneNumber: 'null' } }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft).not.toHaveProperty('Email');
      expect(draft).not.toHaveProperty('PhoneNumber');
      expect(draft.UserName).toBe('jdoe');
    });

    it('normalises override results like defaults', async () => {
      const mapper = compileMapping(
        connection({
          defaultPhoneRegion: 'SG',
          fields: {
            PhoneNumber: '"8123 4567"',
            Birthdate: 'raw.birthday',
            UserName: '"  padded  "',
            Address: '"   "',
          },
        }),
      );
      const draft = await mapper.map(clerkChange);
      expect(draft.PhoneNumber).toBe('+6581234567');
      expect(draft.Birthdate).toBe(Date.UTC(1990, 4, 1));
      expect(draft.UserName).toBe('padded');
      expect(draft).not.toHaveProperty('Address');
    });

    it('accepts epoch ms from $toMillis for Birthdate', async () => {
      const mapper = compileMapping(
        connection({ fields: { Birthdate: '$toMillis(raw.birthday & "T10:00:00Z")' } }),
      );
      expect((await mapper.map(clerkChange)).Birthdate).toBe(Date.UTC(1990, 4, 1));
    });

    it('wraps a single string into a list for UserGroup and UserOrg', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            UserGroup: 'raw.public_metadata.groups',
            UserOrg: 'raw.groups.name',
          },
        }),
      );
      expect(await mapper.map(clerkChange)).toMatchObject({ UserGroup: ['grp-1'] });
      expect(await mapper.map(workosChange)).toMatchObject({ UserOrg: ['Engineering'] });
    });

    it('builds CustomizationAttributes from an object or from MemberMap items', async () => {
      const fromObject = compileMapping(
        connection({ fields: { CustomizationAttributes: 'raw.public_metadata' } }),
      );
      expect((await fromObject.map(clerkChange)).CustomizationAttributes).toEqual([
        { Name: 'flags', Value: '{"beta":true}', Type: 'STRING' },
        { Name: 'groups', Value: 'grp-1', Type: 'STRING' },
        { Name: 'score', Value: '42', Type: 'STRING' },
        { Name: 'tier', Value: 'gold', Type: 'STRING' },
      ]);
      const fromItems = compileMapping(
        connection({
          fields: {
            CustomizationAttributes:
              '[{"Name": "tier", "Value": raw.public_metadata.tier, "Type": "ENUM"}, {"Name": "id", "Value": raw.id}]',
          },
        }),
      );
      expect((await fromItems.map(clerkChange)).CustomizationAttributes).toEqual([
        { Name: 'id', Value: 'user_2abc', Type: 'STRING' },
        { Name: 'tier', Value: 'gold', Type: 'ENUM' },
      ]);
    });

    it('counts IndexedAttribute characters as code points: 512 astral ones fit, 513 do not', async () => {
      const mapper = compileMapping(connection({ fields: { IndexedAttribute4: 'raw.value' } }));
      const astral = '😀'.repeat(512);
      const ok = await mapper.map(makeChange({}, { value: astral }));
      expect(ok.IndexedAttribute4).toBe(astral);
      const error = await mapError(mapper.map(makeChange({}, { value: `${astral}😀` })));
      expect(error).toMatchObject({
        code: 'MAPPING_INVALID',
        details: [{ field: 'IndexedAttribute4', reason: 'longer than 512 characters' }],
      });
    });

    it('keeps a 512-character IndexedAttribute and refuses 513', async () => {
      const mapper = compileMapping(connection({ fields: { IndexedAttribute4: 'raw.value' } }));
      const ok = await mapper.map(makeChange({}, { value: 'a'.repeat(512) }));
      expect(ok.IndexedAttribute4).toHaveLength(512);
      const error = await mapError(mapper.map(makeChange({}, { value: 'a'.repeat(513) })));
      expect(error).toMatchObject({
        code: 'MAPPING_INVALID',
        statusCode: 422,
        details: [{ field: 'IndexedAttribute4' }],
      });
    });
  });

  describe('invalid values', () => {
    it('names every field with a wrong type', async () => {
      const mapper = compileMapping(
        connection({
          fields: {
            Email: '{"address": attributes.email}',
            UserGroup: '[{"id": "g"}]',
            Birthdate: 'true',
            CustomizationAttributes: '"text"',
          },
        }),
      );
      const error = await mapError(mapper.map(clerkChange));
      expect(error).toMatchObject({ code: 'MAPPING_INVALID', statusCode: 422, expose: true });
      expect((error.details as { field: string }[]).map((item) => item.field)).toEqual([
        'Email',
        'UserGroup',
        'Birthdate',
        'CustomizationAttributes',
      ]);
    });

    it('reports a JSONata evaluation error without the value', async () => {
      const mapper = compileMapping(
        connection({ fields: { IndexedAttribute1: '$number(raw.username)' } }),
      );
      const error = await mapError(mapper.map(clerkChange));
      expect(error).toMatchObject({
        code: 'MAPPING_INVALID',
        details: [{ field: 'IndexedAttribute1', reason: expect.stringContaining('D3030') }],
      });
      expect(JSON.stringify(error.details) + error.message).not.toContain('jdoe');
      expect(error.cause).toBeUndefined();
    });

    it('stops runaway recursion', async () => {
      const mapper = compileMapping(
        connection({ fields: { Nickname: '($f := function($x){ 1 + $f($x) }; $f(1))' } }),
      );
      const error = await mapError(mapper.map(clerkChange));
      expect(error).toMatchObject({ code: 'MAPPING_INVALID', details: [{ field: 'Nickname' }] });
    });

    it('refuses invalid default values without leaking them', async () => {
      const mapper = compileMapping(connection());
      const error = await mapError(
        mapper.map(makeChange({ phone: '81234567', birthdate: '31/12/1990', email: 'a@b.c' })),
      );
      expect(error.details).toEqual([
        { field: 'PhoneNumber', reason: expect.any(String) },
        { field: 'Birthdate', reason: expect.any(String) },
      ]);
      const text = JSON.stringify(error.details) + error.message;
      expect(text).not.toContain('81234567');
      expect(text).not.toContain('1990');
    });

    it('refuses an invalid phone even with a default region', async () => {
      const mapper = compileMapping(connection({ defaultPhoneRegion: 'SG' }));
      const error = await mapError(mapper.map(makeChange({ phone: '12345' })));
      expect(error).toMatchObject({ details: [{ field: 'PhoneNumber' }] });
    });

    it('refuses a birthdate out of range', async () => {
      const mapper = compileMapping(connection());
      const error = await mapError(mapper.map(makeChange({ birthdate: '1700-01-01' })));
      expect(error).toMatchObject({ details: [{ field: 'Birthdate' }] });
    });
  });

  describe('compile', () => {
    it('names the field of an invalid JSONata expression', () => {
      expect(configError({ fields: { UserName: 'raw.username', Email: 'raw.(' } })).toMatchObject({
        code: 'CONFIG_INVALID',
        details: [{ connectionId: 'conn-1', path: 'mapping.fields.Email' }],
      });
    });

    it('lists every configuration problem at once', () => {
      const error = configError({
        defaultPhoneRegion: 'XX',
        customAttributeType: ' ',
        phoneFormat: 'national' as never,
        omit: ['UserId' as never],
        fields: { UserStoreId: '"x"', Nickname: 42 as never, Address: '"unterminated' } as never,
      });
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      const paths = ((error as { details: { path: string }[] }).details ?? []).map(
        (item) => item.path,
      );
      expect(paths.sort()).toEqual(
        [
          'mapping.customAttributeType',
          'mapping.defaultPhoneRegion',
          'mapping.fields.Address',
          'mapping.fields.Nickname',
          'mapping.fields.UserStoreId',
          'mapping.omit',
          'mapping.phoneFormat',
        ].sort(),
      );
    });
  });

  describe('properties', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('', '   ', '\t', 'x'.repeat(600)),
    );
    const attributes: fc.Arbitrary<CanonicalAttributes> = fc.record(
      {
        userName: text,
        email: text,
        phone: fc.oneof(fc.constantFrom('+65 8123 4567', '81234567', '', ' '), fc.string()),
        nickname: text,
        givenName: text,
        familyName: text,
        displayName: text,
        address: text,
        birthdate: fc.oneof(
          fc.constantFrom('1990-05-01', '1990-05-01T10:00:00Z', '', 'bad'),
          fc.integer({ min: -5_000_000_000_000, max: 5_000_000_000_000 }),
          fc.double(),
        ),
        groups: fc.array(text, { maxLength: 4 }),
        orgs: fc.array(text, { maxLength: 4 }),
        custom: fc.dictionary(
          fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor')),
          fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.object()),
          { maxKeys: 5 },
        ),
      },
      { requiredKeys: [] },
    );

    const mapper = compileMapping(
      connection({
        defaultPhoneRegion: 'SG',
        fields: {
          IndexedAttribute1: 'attributes.userName',
          IndexedAttribute2: 'attributes.address',
          IndexedAttribute3: '$join(attributes.groups, ",")',
        },
      }),
    );

    const hasBlankOrUndefined = (value: unknown): boolean => {
      if (value === undefined || value === '') return true;
      if (Array.isArray(value)) return value.length === 0 || value.some(hasBlankOrUndefined);
      if (typeof value === 'object' && value !== null) {
        return Object.values(value).some(hasBlankOrUndefined);
      }
      return false;
    };

    it('never sends blanks, undefined values or IndexedAttributes over 512 characters', async () => {
      await fc.assert(
        fc.asyncProperty(attributes, async (generated) => {
          let draft: Record<string, unknown>;
          try {
            draft = { ...(await mapper.map(makeChange(generated))) };
          } catch (error) {
            expect(error).toMatchObject({ code: 'MAPPING_INVALID', statusCode: 422 });
            for (const item of (error as ValidationError).details as { field: string }[]) {
              expect(MAPPABLE_FIELDS).toContain(item.field);
            }
            return;
          }
          expect(draft.UserStoreId).toBe(STORE);
          expect(hasBlankOrUndefined(draft)).toBe(false);
          for (const index of [1, 2, 3, 4, 5]) {
            const value = draft[`IndexedAttribute${index}`];
            expect(
              value === undefined || (typeof value === 'string' && [...value].length <= 512),
            ).toBe(true);
          }
          if (draft.Birthdate !== undefined) {
            expect(Number.isSafeInteger(draft.Birthdate)).toBe(true);
            expect((draft.Birthdate as number) % 86_400_000 === 0).toBe(true);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('maps well-formed attributes without errors', async () => {
      const wellFormed = fc.record(
        {
          userName: fc.string({ maxLength: 512 }),
          email: fc.string(),
          phone: fc.constantFrom('+65 8123 4567', '81234567', '+86 138 0000 0000'),
          address: fc.string({ maxLength: 512 }),
          birthdate: fc
            .date({ min: new Date('1800-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
            .map((date) => date.toISOString().slice(0, 10)),
          groups: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
          custom: fc.dictionary(fc.string({ maxLength: 8 }), fc.string()),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(wellFormed, async (generated) => {
          const draft = await mapper.map(makeChange(generated));
          expect(draft.UserStoreId).toBe(STORE);
        }),
        { numRuns: 200 },
      );
    });
  });
});
