import type { CanonicalAttributes, UserChange } from '../change.ts';
import { toPhoneRegion } from '../ciam/phone.ts';
import type { UpdateUserDraft, UpdateUserField } from '../ciam/types.ts';
import { isMappableField, MAPPABLE_FIELDS, PHONE_FORMATS } from '../ciam/update-user-fields.ts';
import type { Connection } from '../config/types.ts';
import { ConfigError, ValidationError } from '../errors.ts';
import { type CompiledExpression, compileExpression, expressionErrorCode } from '../expression.ts';
import { type NormaliseOptions, normaliseField } from './normalise.ts';

export interface Mapper {
  /** Throws ValidationError `MAPPING_INVALID` (422), details `[{ field, reason }]`, listing every bad field. */
  map(change: UserChange): Promise<UpdateUserDraft>;
}

interface Problem {
  field: string;
  reason: string;
}

const firstText = (...candidates: unknown[]): unknown =>
  candidates.find((candidate) => typeof candidate === 'string' && candidate.trim() !== '');

const fullName = (attributes: CanonicalAttributes): string | undefined => {
  const parts = [attributes.givenName, attributes.familyName].filter(
    (part) => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length === 0 ? undefined : parts.map((part) => part?.trim()).join(' ');
};

/** Source-independent: sources already put their own defaults into the canonical attributes. */
const defaultValue = (field: UpdateUserField, attributes: CanonicalAttributes): unknown => {
  switch (field) {
    case 'UserName':
      return attributes.userName;
    case 'Email':
      return attributes.email;
    case 'PhoneNumber':
      return attributes.phone;
    case 'Nickname':
      return firstText(attributes.nickname, attributes.displayName, fullName(attributes));
    case 'Address':
      return attributes.address;
    case 'Birthdate':
      return attributes.birthdate;
    case 'UserGroup':
      return attributes.groups;
    case 'UserOrg':
      return attributes.orgs;
    case 'CustomizationAttributes':
      return attributes.custom;
    default:
      return undefined;
  }
};

/**
 * Compiles a connection's mapping once (cold start). Invalid configuration throws ConfigError
 * `CONFIG_INVALID` with details `[{ connectionId, path, reason }]` for every problem found.
 *
 * @example
 * const mapper = compileMapping(connection);
 * const draft = await mapper.map(change); // { UserStoreId, Email, … }; add UserId and send
 */
export function compileMapping(
  connection: Pick<Connection, 'id' | 'userStoreId' | 'mapping'>,
): Mapper {
  const { id: connectionId, userStoreId, mapping } = connection;
  const problems: { connectionId: string; path: string; reason: string }[] = [];
  const problem = (path: string, reason: string) => problems.push({ connectionId, path, reason });

  const options: NormaliseOptions = {
    phone: mapping.phoneFormat === undefined ? {} : { format: mapping.phoneFormat },
    customAttributeType: mapping.customAttributeType ?? 'STRING',
  };
  if (options.customAttributeType.trim() === '') {
    problem('mapping.customAttributeType', 'must not be blank');
  }
  if (mapping.phoneFormat !== undefined && !PHONE_FORMATS.includes(mapping.phoneFormat)) {
    problem('mapping.phoneFormat', `not one of ${PHONE_FORMATS.join(', ')}`);
  }
  if (mapping.defaultPhoneRegion !== undefined) {
    const region = toPhoneRegion(mapping.defaultPhoneRegion);
    if (region !== undefined) options.phone.defaultRegion = region;
    else problem('mapping.defaultPhoneRegion', 'not a supported ISO 3166-1 alpha-2 region');
  }

  const omit = new Set<UpdateUserField>();
  for (const field of mapping.omit ?? []) {
    if (isMappableField(field)) omit.add(field);
    else problem('mapping.omit', 'names a field that is not an overridable UpdateUser field');
  }

  const overrides = new Map<UpdateUserField, CompiledExpression>();
  for (const [field, expression] of Object.entries(mapping.fields ?? {})) {
    const path = `mapping.fields.${field}`;
    if (!isMappableField(field)) {
      problem(path, 'not an overridable UpdateUser field');
    } else if (typeof expression !== 'string') {
      problem(path, 'expected a JSONata expression string');
    } else {
      try {
        overrides.set(field, compileExpression(expression));
      } catch (error) {
        problem(path, `invalid JSONata (${expressionErrorCode(error)})`);
      }
    }
  }

  if (problems.length > 0) {
    throw new ConfigError(`connection ${connectionId}: invalid mapping configuration`, {
      details: problems,
    });
  }

  // `omit` wins over an override of the same field: "never sent" is the stronger statement.
  const fields = MAPPABLE_FIELDS.filter((field) => !omit.has(field));

  return {
    async map(change) {
      const input = {
        change,
        subject: change.subject,
        attributes: change.attributes,
        raw: change.raw,
      };
      const draft: Record<string, unknown> = { UserStoreId: userStoreId };
      const invalid: Problem[] = [];
      for (const field of fields) {
        const expression = overrides.get(field);
        let value: unknown;
        if (expression === undefined) {
          value = defaultValue(field, change.attributes);
        } else {
          try {
            value = await expression.evaluate(input);
          } catch (error) {
            invalid.push({
              field,
              reason: `JSONata evaluation failed (${expressionErrorCode(error)})`,
            });
            continue;
          }
        }
        const result = normaliseField(field, value, options);
        if (!result.ok) invalid.push({ field, reason: result.reason });
        else if (result.value !== undefined) draft[field] = result.value;
      }
      if (invalid.length > 0) {
        throw new ValidationError(
          'MAPPING_INVALID',
          `mapping produced invalid values for ${invalid.map((item) => item.field).join(', ')}`,
          { details: invalid },
        );
      }
      return draft as unknown as UpdateUserDraft;
    },
  };
}
