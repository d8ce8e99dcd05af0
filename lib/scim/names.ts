// The parts of the SCIM `name`, kept in CIAM custom attributes the connection names: CIAM has no
// name fields, yet Okta reads `name.givenName` and `name.familyName` back from every user and
// Entra writes them. Written with the other mapped fields of a POST, PUT or PATCH (so the field
// clocks cover them as `custom:<attribute>`), rendered back on every read.
import type { StaleGuard } from '../ciam/stale-guard.ts';
import type { CiamUser, MemberMap, UpdateUserDraft } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, ConfigError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import type { ScimOptions } from './options.ts';
import type { ScimObject } from './patch.ts';

/** In the order RFC 7643 §4.1.1 lists them, which is also the order they are rendered in. */
export const NAME_PARTS = ['formatted', 'familyName', 'givenName'] as const;
export type NamePart = (typeof NAME_PARTS)[number];

/** Where each part of `name` is kept; a part without an attribute is neither written nor read. */
export type NameAttributes = Partial<Record<NamePart, string>>;

export const DEFAULT_NAME_ATTRIBUTES = {
  formatted: 'formatted_name',
  familyName: 'family_name',
  givenName: 'given_name',
} as const satisfies Record<NamePart, string>;

const OPTION_OF = {
  formatted: 'formattedNameAttribute',
  familyName: 'familyNameAttribute',
  givenName: 'givenNameAttribute',
} as const satisfies Record<NamePart, keyof ScimOptions>;

/** The connection's name attributes: the configured ones, the defaults, none where set to false. */
export const nameAttributesOf = (options: ScimOptions): NameAttributes => {
  const attributes: NameAttributes = {};
  for (const part of NAME_PARTS) {
    const configured = options[OPTION_OF[part]];
    if (configured === false) continue;
    attributes[part] = configured ?? DEFAULT_NAME_ATTRIBUTES[part];
  }
  return attributes;
};

/**
 * What the config schema cannot see: two parts kept in one attribute (each write would overwrite
 * the other), or a part kept where the stale-event guard keeps its clocks or an earlier version's
 * marks (a name would corrupt them, and they would be rendered as a name).
 */
export const nameAttributeProblems = (
  options: ScimOptions,
  guard?: Pick<StaleGuard, 'attribute' | 'legacy'>,
): string[] => {
  const problems: string[] = [];
  const reserved = new Set([
    ...(guard === undefined ? [] : [guard.attribute]),
    ...(guard?.legacy ?? []).map((mark) => mark.attribute),
  ]);
  const partOf = new Map<string, NamePart>();
  for (const [part, attribute] of Object.entries(nameAttributesOf(options)) as Array<
    [NamePart, string]
  >) {
    const option = `options.${OPTION_OF[part]}`;
    const other = partOf.get(attribute);
    if (other !== undefined) {
      problems.push(`${option}: "${attribute}" already keeps name.${other}`);
    } else if (reserved.has(attribute)) {
      problems.push(`${option}: "${attribute}" is where the stale-event guard keeps its clocks`);
    }
    partOf.set(attribute, part);
  }
  return problems;
};

/** Throws ConfigError listing nameAttributeProblems, for the SCIM function's cold start. */
export const checkNameAttributes = (
  options: ScimOptions,
  guard?: Pick<StaleGuard, 'attribute' | 'legacy'>,
): void => {
  const problems = nameAttributeProblems(options, guard);
  if (problems.length > 0) throw new ConfigError(problems.join('; '), { details: problems });
};

/** A part of `name` as sent: trimmed text, blank read as absent, anything else refused. */
export const namePartOf = (name: unknown, part: NamePart): string | undefined => {
  if (!isRecord(name)) return undefined;
  const value = name[part];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new AdapterError('SCIM_INVALID_VALUE', `name.${part} must be a string`);
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
};

/** The SCIM `name` of a CIAM user, from its custom attributes; undefined when it keeps none. */
export const nameOf = (names: NameAttributes, user: Pick<CiamUser, 'CustomAttributes'>) => {
  const name: ScimObject = {};
  for (const part of NAME_PARTS) {
    const attribute = names[part];
    if (attribute === undefined) continue;
    const value = user.CustomAttributes?.find((item) => item.Name === attribute)?.Value;
    if (typeof value === 'string' && value.trim() !== '') name[part] = value;
  }
  return Object.keys(name).length === 0 ? undefined : name;
};

/**
 * The name parts a SCIM user carries, as custom attributes added to the mapped draft. What the
 * mapping already sets under the same attribute wins, and a mapping that omits
 * CustomizationAttributes writes no names either. An absent or blank part writes nothing: like
 * every mapped field, a name is never blanked.
 */
export const withNames = (
  connection: Pick<Connection, 'mapping'>,
  names: NameAttributes,
  draft: UpdateUserDraft,
  resource: unknown,
): UpdateUserDraft => {
  if (connection.mapping.omit?.includes('CustomizationAttributes')) return draft;
  const name = isRecord(resource) ? resource.name : undefined;
  const mapped = draft.CustomizationAttributes ?? [];
  const taken = new Set(mapped.map((item) => item.Name));
  const added: MemberMap[] = [];
  for (const part of NAME_PARTS) {
    const attribute = names[part];
    const value = namePartOf(name, part);
    if (attribute === undefined || value === undefined || taken.has(attribute)) continue;
    added.push({
      Name: attribute,
      Value: value,
      Type: connection.mapping.customAttributeType ?? 'STRING',
    });
  }
  return added.length === 0 ? draft : { ...draft, CustomizationAttributes: [...mapped, ...added] };
};
