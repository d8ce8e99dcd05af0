import { describe, expect, it } from 'vitest';
import { connectionTag, encodeClocks } from '../../lib/ciam/field-clocks.ts';
import type { StaleGuard } from '../../lib/ciam/stale-guard.ts';
import type { CiamUser, UpdateUserDraft } from '../../lib/ciam/types.ts';
import { parseConfig } from '../../lib/config/load.ts';
import type { Connection } from '../../lib/config/types.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { prepareScimConnections } from '../../lib/runtime/scim.ts';
import {
  DEFAULT_NAME_ATTRIBUTES,
  nameAttributeProblems,
  nameAttributesOf,
  nameOf,
  withNames,
} from '../../lib/scim/names.ts';
import { draftOf } from '../../lib/scim/plan.ts';
import { toScimUser, toUserChange } from '../../lib/scim/user.ts';
import { readJson } from '../helpers/files.ts';
import { thrown } from '../helpers/thrown.ts';

const META = { eventId: 'evt-1', occurredAt: '2025-01-02T03:04:05.000Z' };
const DRAFT: UpdateUserDraft = { UserStoreId: 'local-store', UserName: 'jane' };

const guard: StaleGuard = {
  attribute: 'adapter_field_clocks',
  type: 'STRING',
  connection: connectionTag('scim'),
  authorityOf: () => undefined,
  legacy: [{ attribute: 'old_marks', connection: connectionTag('scim'), covers: () => true }],
};

describe('scim/names nameAttributesOf', () => {
  it('keeps each part in its default attribute unless the connection names another or none', () => {
    expect(nameAttributesOf({})).toEqual({
      formatted: 'formatted_name',
      familyName: 'family_name',
      givenName: 'given_name',
    });
    expect(
      nameAttributesOf({
        givenNameAttribute: 'first',
        familyNameAttribute: false,
        formattedNameAttribute: 'full',
      }),
    ).toEqual({ givenName: 'first', formatted: 'full' });
  });
});

describe('scim/names nameAttributeProblems', () => {
  it('finds none in the defaults, with or without the stale-event guard', () => {
    expect(nameAttributeProblems({}, guard)).toEqual([]);
    expect(nameAttributeProblems({})).toEqual([]);
  });

  it('refuses two parts in one attribute, and the attributes the guard keeps clocks or marks in', () => {
    expect(nameAttributeProblems({ familyNameAttribute: 'given_name' })).toEqual([
      'options.givenNameAttribute: "given_name" already keeps name.familyName',
    ]);
    expect(
      nameAttributeProblems(
        { givenNameAttribute: 'old_marks', familyNameAttribute: 'adapter_field_clocks' },
        guard,
      ),
    ).toEqual([
      'options.familyNameAttribute: "adapter_field_clocks" is where the stale-event guard keeps its clocks',
      'options.givenNameAttribute: "old_marks" is where the stale-event guard keeps its clocks',
    ]);
  });

  it('fails the SCIM function’s cold start when a name would land in the user store’s clocks', () => {
    const local = readJson('config/local.json') as Record<string, unknown>;
    const config = parseConfig({
      ...local,
      userStores: { 'local-store': { clockAttribute: 'given_name' } },
    });
    expect(() => prepareScimConnections(config)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('scim: options.givenNameAttribute: "given_name"'),
      }),
    );
    // The clocks elsewhere: the same connection prepares.
    expect([...prepareScimConnections(parseConfig(local)).keys()]).toEqual(['scim']);
  });

  it('is backed by the config schema: adapter_ names and malformed names are refused', () => {
    const local = readJson('config/local.json') as { connections: Array<Record<string, unknown>> };
    const withOptions = (options: Record<string, unknown>) => ({
      ...local,
      connections: local.connections.map((connection) =>
        connection.id === 'scim' ? { ...connection, options } : connection,
      ),
    });
    for (const value of ['adapter_field_clocks', 'adapter_watermark_scim', '', 'a b', true]) {
      expect(() => parseConfig(withOptions({ givenNameAttribute: value })), String(value)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
    expect(() =>
      parseConfig(withOptions({ givenNameAttribute: 'first_name', familyNameAttribute: false })),
    ).not.toThrow();
  });
});

describe('scim/names nameOf (CIAM → SCIM)', () => {
  const user: Pick<CiamUser, 'CustomAttributes'> = {
    CustomAttributes: [
      { Name: 'adapter_field_clocks', Value: encodeClocks(new Map()) },
      { Name: 'adapter_watermark_scim', Value: 'v1;1;e' },
      { Name: 'given_name', Value: 'Jane' },
      { Name: 'family_name', Value: 'Doe' },
      { Name: 'formatted_name', Value: '  ' },
      { Name: 'site', Value: 'SG' },
    ],
  };

  it('renders the kept parts only, never another custom attribute, and nothing blank', () => {
    expect(nameOf(DEFAULT_NAME_ATTRIBUTES, user)).toEqual({ familyName: 'Doe', givenName: 'Jane' });
    expect(nameOf({ givenName: 'site' }, user)).toEqual({ givenName: 'SG' });
  });

  it('is undefined when the user keeps no part, or the connection keeps none', () => {
    expect(nameOf(DEFAULT_NAME_ATTRIBUTES, {})).toBeUndefined();
    expect(nameOf(DEFAULT_NAME_ATTRIBUTES, { CustomAttributes: [] })).toBeUndefined();
    expect(nameOf({}, user)).toBeUndefined();
  });
});

describe('scim/names withNames (SCIM → CIAM)', () => {
  const mapping = (extra: Connection['mapping'] = {}) => ({ mapping: extra });
  const jane = { name: { givenName: ' Jane ', familyName: 'Doe', formatted: 'Ms Jane Doe' } };

  it('adds each part sent, trimmed, as a custom attribute of the mapping’s type', () => {
    expect(withNames(mapping(), DEFAULT_NAME_ATTRIBUTES, DRAFT, jane)).toEqual({
      ...DRAFT,
      CustomizationAttributes: [
        { Name: 'formatted_name', Value: 'Ms Jane Doe', Type: 'STRING' },
        { Name: 'family_name', Value: 'Doe', Type: 'STRING' },
        { Name: 'given_name', Value: 'Jane', Type: 'STRING' },
      ],
    });
    expect(
      withNames(mapping({ customAttributeType: 'TEXT' }), { givenName: 'first' }, DRAFT, jane)
        .CustomizationAttributes,
    ).toEqual([{ Name: 'first', Value: 'Jane', Type: 'TEXT' }]);
  });

  it('writes nothing for parts absent, blank or null, and no name at all', () => {
    const sparse = { name: { givenName: '', familyName: null, middleName: 'X' } };
    expect(withNames(mapping(), DEFAULT_NAME_ATTRIBUTES, DRAFT, sparse)).toBe(DRAFT);
    expect(withNames(mapping(), DEFAULT_NAME_ATTRIBUTES, DRAFT, { userName: 'j' })).toBe(DRAFT);
    expect(withNames(mapping(), {}, DRAFT, jane)).toBe(DRAFT);
  });

  it('leaves what the mapping sets under the same attribute, and writes none when it omits them', () => {
    const mapped = {
      ...DRAFT,
      CustomizationAttributes: [{ Name: 'given_name', Value: 'From mapping', Type: 'STRING' }],
    };
    expect(
      withNames(mapping(), DEFAULT_NAME_ATTRIBUTES, mapped, jane).CustomizationAttributes,
    ).toEqual([
      { Name: 'given_name', Value: 'From mapping', Type: 'STRING' },
      { Name: 'formatted_name', Value: 'Ms Jane Doe', Type: 'STRING' },
      { Name: 'family_name', Value: 'Doe', Type: 'STRING' },
    ]);
    expect(
      withNames(
        mapping({ omit: ['CustomizationAttributes'] }),
        DEFAULT_NAME_ATTRIBUTES,
        DRAFT,
        jane,
      ),
    ).toBe(DRAFT);
  });

  it('refuses a part that is not a string with invalidValue', () => {
    expect(
      thrown(() =>
        withNames(mapping(), DEFAULT_NAME_ATTRIBUTES, DRAFT, { name: { formatted: 1 } }),
      ),
    ).toMatchObject({ code: 'SCIM_INVALID_VALUE', message: 'name.formatted must be a string' });
    // The same check runs when the SCIM user is read, before any CIAM call.
    expect(thrown(() => toUserChange('scim', { name: { formatted: {} } }, META))).toMatchObject({
      code: 'SCIM_INVALID_VALUE',
    });
  });

  it('round-trips: what a SCIM user sends is what the stored CIAM user renders', async () => {
    const connection = {
      id: 'scim',
      userStoreId: 'local-store',
      resolve: { by: 'indexedAttribute', index: 1 },
      mapping: {},
    } satisfies Pick<Connection, 'id' | 'userStoreId' | 'resolve' | 'mapping'>;
    const sent = {
      userName: 'jane',
      name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' },
    };
    const draft = await draftOf(
      connection,
      compileMapping(connection),
      toUserChange('scim', sent, META),
      DEFAULT_NAME_ATTRIBUTES,
    );
    // CIAM answers the attributes it was sent under CustomAttributes.
    const { CustomizationAttributes, UserStoreId: _store, ...fields } = draft;
    const storedUser: CiamUser = {
      ...fields,
      UserId: 'u-1',
      CustomAttributes: CustomizationAttributes ?? [],
    };
    const rendered = toScimUser(connection, storedUser, undefined, DEFAULT_NAME_ATTRIBUTES);
    expect(rendered.name).toEqual(sent.name);
    expect(rendered.displayName).toBe('Jane Doe');
  });
});
