// The SCIM form of a CIAM user, and back. CIAM → SCIM is fixed (CIAM has few fields); SCIM → CIAM
// goes through the connection's mapping (lib/mapping), like every webhook source, with the SCIM
// user as `raw` so JSONata overrides can read any attribute (enterprise ones included).
import type { CanonicalAttributes, UserChange } from '../change.ts';
import type { CiamUser, UpdateUserDraft } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { type NameAttributes, nameOf, namePartOf } from './names.ts';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, type ScimObject } from './patch.ts';

/** Where `externalId` is kept: the IndexedAttribute the connection resolves users by, if any. */
export const externalIdField = (connection: Pick<Connection, 'resolve'>) =>
  connection.resolve.by === 'indexedAttribute'
    ? (`IndexedAttribute${connection.resolve.index}` as const)
    : undefined;

const iso = (ms: unknown): string | undefined =>
  typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;

/** CIAM's FREEZE and LOCK are the only inactive states. */
const isActive = (status: unknown): boolean => status !== 'FREEZE' && status !== 'LOCK';

/**
 * A CIAM user as a SCIM User. Custom attributes are never rendered as such (the field clocks live
 * there): only those the connection keeps `name` in, as `name`.
 */
export const toScimUser = (
  connection: Pick<Connection, 'resolve'>,
  user: CiamUser,
  location?: string,
  names: NameAttributes = {},
): ScimObject => {
  const field = externalIdField(connection);
  const name = nameOf(names, user);
  const externalId = field === undefined ? undefined : user[field];
  const present = (value: unknown): value is string => typeof value === 'string' && value !== '';
  const created = iso(user.CreatedDate);
  const lastModified = iso(user.LastModifiedDate);
  return {
    schemas: [CORE_USER_SCHEMA],
    id: user.UserId,
    ...(present(externalId) ? { externalId } : {}),
    ...(present(user.UserName) ? { userName: user.UserName } : {}),
    ...(name === undefined ? {} : { name }),
    ...(present(user.Nickname) ? { displayName: user.Nickname } : {}),
    ...(present(user.Email)
      ? { emails: [{ value: user.Email, type: 'work', primary: true }] }
      : {}),
    ...(present(user.PhoneNumber)
      ? { phoneNumbers: [{ value: user.PhoneNumber, type: 'mobile', primary: true }] }
      : {}),
    ...(present(user.Address) ? { addresses: [{ formatted: user.Address, type: 'work' }] } : {}),
    active: isActive(user.Status),
    meta: {
      resourceType: 'User',
      ...(created === undefined ? {} : { created }),
      ...(lastModified === undefined ? {} : { lastModified }),
      ...(location === undefined ? {} : { location }),
    },
  };
};

const wrong = (name: string, expected: string) =>
  new AdapterError('SCIM_INVALID_VALUE', `${name} must be ${expected}`);

const optionalString = (user: ScimObject, name: string): string | undefined => {
  const value = user[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrong(name, 'a string');
  return value === '' ? undefined : value;
};

const elementsOf = (user: ScimObject, name: string): ScimObject[] => {
  const value = user[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord)) throw wrong(name, 'an array of objects');
  return value;
};

const typeIs = (type: string) => (element: ScimObject) =>
  typeof element.type === 'string' && element.type.toLowerCase() === type;

/** The element the mapping reads: the first of the given types, then the primary one, then any. */
const pick = (elements: ScimObject[], types: readonly string[]): ScimObject | undefined => {
  for (const type of types) {
    const found = elements.find(typeIs(type));
    if (found !== undefined) return found;
  }
  return elements.find((element) => element.primary === true) ?? elements[0];
};

const textOf = (name: string, element: ScimObject | undefined, key = 'value') => {
  const value = element?.[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw wrong(`${name}.${key}`, 'a string');
  return value;
};

const addressOf = (element: ScimObject | undefined): string | undefined => {
  if (element === undefined) return undefined;
  const formatted = textOf('addresses', element, 'formatted');
  if (formatted !== undefined) return formatted;
  const parts = ['streetAddress', 'locality', 'region', 'postalCode', 'country']
    .map((key) => textOf('addresses', element, key))
    .filter((part) => part !== undefined);
  return parts.length === 0 ? undefined : parts.join(', ');
};

/**
 * A SCIM user as the canonical change every source produces; attribute names are matched in the
 * canonical spelling lib/scim/patch.ts gives them.
 */
export const toUserChange = (
  connectionId: string,
  user: ScimObject,
  meta: { eventId: string; occurredAt: string; ciamUserId?: string },
): UserChange => {
  const name = user.name;
  if (name !== undefined && name !== null && !isRecord(name)) throw wrong('name', 'an object');
  const emails = elementsOf(user, 'emails');
  const phones = elementsOf(user, 'phoneNumbers');
  const addresses = elementsOf(user, 'addresses');
  if (user.active !== undefined && typeof user.active !== 'boolean')
    throw wrong('active', 'a boolean');
  const email = textOf('emails', pick(emails, ['work']));
  const phone = textOf('phoneNumbers', pick(phones, ['mobile', 'work']));
  const userName = optionalString(user, 'userName');
  const externalId = optionalString(user, 'externalId');
  const attributes: CanonicalAttributes = {};
  const set = <K extends keyof CanonicalAttributes>(
    key: K,
    value: CanonicalAttributes[K] | undefined,
  ) => {
    if (value !== undefined) attributes[key] = value;
  };
  set('userName', userName);
  set('email', email);
  set('phone', phone);
  set('nickname', optionalString(user, 'nickName'));
  set('displayName', optionalString(user, 'displayName'));
  if (isRecord(name)) {
    set('givenName', optionalString(name, 'givenName'));
    set('familyName', optionalString(name, 'familyName'));
    // Not a canonical attribute (it is kept as written, see names.ts), but refused here too, so a
    // wrong type is caught before any CIAM call.
    namePartOf(name, 'formatted');
  }
  set('address', addressOf(pick(addresses, ['work'])));
  return {
    connectionId,
    eventId: meta.eventId,
    eventType: 'scim.user',
    occurredAt: meta.occurredAt,
    subject: {
      ...(externalId === undefined ? {} : { externalId }),
      ...(email === undefined ? {} : { email }),
      ...(phone === undefined ? {} : { phone }),
      ...(userName === undefined ? {} : { userName }),
      ...(meta.ciamUserId === undefined ? {} : { ciamUserId: meta.ciamUserId }),
    },
    attributes,
    raw: user,
  };
};

/** `externalId` into the connection's IndexedAttribute, unless the mapping sets or omits it. */
export const withExternalId = (
  connection: Pick<Connection, 'resolve' | 'mapping'>,
  draft: UpdateUserDraft,
  change: UserChange,
): UpdateUserDraft => {
  const field = externalIdField(connection);
  const externalId = change.subject.externalId;
  if (field === undefined || externalId === undefined) return draft;
  if (
    connection.mapping.fields?.[field] !== undefined ||
    connection.mapping.omit?.includes(field)
  ) {
    return draft;
  }
  return { ...draft, [field]: externalId };
};

const CIAM_NAMES: Partial<Record<string, string>> = {
  UserGroup: 'UserGroups',
  UserOrg: 'UserOrgs',
  CustomizationAttributes: 'CustomAttributes',
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields of `draft` whose values differ from what CIAM holds: PATCH and PUT send only these,
 * so fields absent from the SCIM user are never blanked. Custom attributes are compared by name.
 */
export const changedFields = (draft: UpdateUserDraft, user: CiamUser): Partial<UpdateUserDraft> => {
  const changed: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(draft)) {
    if (field === 'UserStoreId') continue;
    const current = user[CIAM_NAMES[field] ?? field];
    if (field === 'CustomizationAttributes' && Array.isArray(value)) {
      const held = new Map(
        ((current as Array<{ Name: string; Value: string }> | undefined) ?? []).map((item) => [
          item.Name,
          item.Value,
        ]),
      );
      const differing = (value as Array<{ Name: string; Value: string }>).filter(
        (item) => held.get(item.Name) !== item.Value,
      );
      if (differing.length > 0) changed[field] = differing;
      continue;
    }
    if (!same(current, value)) changed[field] = value;
  }
  return changed as Partial<UpdateUserDraft>;
};

export { ENTERPRISE_USER_SCHEMA };
