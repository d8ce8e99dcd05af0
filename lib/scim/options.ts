// Pure data and types: read by the SCIM service and, at build time, by the config schema.

/** What `active: false` and `DELETE /Users/{id}` do to the CIAM user. */
export type ScimDeactivate = 'ignore' | 'freeze';

/** A CIAM custom attribute that keeps one part of the SCIM `name`, or `false` to keep none. */
export type NameAttributeOption = string | false;

export interface ScimOptions {
  /**
   * `ignore` (default): answer as if done and leave the CIAM user as it is. `freeze`: set the CIAM
   * user's status to FREEZE (UpdateUserStatus), and back to NORMAL on `active: true`.
   */
  deactivate?: ScimDeactivate;
  /** POST /Users creates the CIAM user (CreateUser) when the connection's resolution finds none. */
  allowCreate?: boolean;
  /** Largest `count` a list request gets (Okta imports with 100). */
  maxPageSize?: number;
  /**
   * Most members one PATCH or PUT of a Group may name (default 100); a larger list is refused
   * before anything is written. Each member costs CIAM calls, at CIAM's rate.
   */
  maxGroupMembersPerRequest?: number;
  /**
   * POST /Groups: `link` (default) answers 201 with the CIAM group of that displayName and adds
   * the posted members; `refuse` answers 409. CIAM groups are created in the console, so a name
   * no CIAM group has is 404 either way.
   */
  postGroups?: 'link' | 'refuse';
  /**
   * DELETE /Groups/{id}: `ignore` (default) changes nothing; `removeMembers` removes every
   * membership the group holds, one user after another. The CIAM group itself stays.
   */
  deleteGroups?: 'ignore' | 'removeMembers';
  /** Custom attribute keeping `name.givenName` (default `given_name`). */
  givenNameAttribute?: NameAttributeOption;
  /** Custom attribute keeping `name.familyName` (default `family_name`). */
  familyNameAttribute?: NameAttributeOption;
  /** Custom attribute keeping `name.formatted` (default `formatted_name`). */
  formattedNameAttribute?: NameAttributeOption;
}

/**
 * CIAM has no name fields, so the parts of the SCIM `name` live in custom attributes. Names that
 * start with `adapter_` are the adapter's own bookkeeping (the field clocks and the marks earlier
 * versions kept) and are never a SCIM attribute.
 */
const nameAttribute = (part: string, fallback: string) => ({
  anyOf: [
    { type: 'string', pattern: '^(?!adapter_)[A-Za-z][A-Za-z0-9_]{0,63}$' },
    { const: false },
  ],
  description: `The CIAM custom attribute that keeps ${part} (define it in the user store), or false to keep it nowhere. Default ${fallback}.`,
});

export const scimOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deactivate: {
      enum: ['ignore', 'freeze'],
      description:
        'What active:false and DELETE do: "ignore" (default) leaves the CIAM user as is; "freeze" sets its status to FREEZE (active:true sets NORMAL again).',
    },
    allowCreate: {
      type: 'boolean',
      description: 'POST /Users creates the CIAM user when resolution finds none (default false).',
    },
    maxPageSize: { type: 'integer', minimum: 1, maximum: 100 },
    postGroups: {
      enum: ['link', 'refuse'],
      description:
        'POST /Groups: "link" (default) answers 201 with the CIAM group of that displayName and adds the posted members; "refuse" answers 409. A name no CIAM group has is 404.',
    },
    deleteGroups: {
      enum: ['ignore', 'removeMembers'],
      description:
        'DELETE /Groups/{id}: "ignore" (default) changes nothing; "removeMembers" removes every membership the group holds. The CIAM group itself stays.',
    },
    maxGroupMembersPerRequest: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      description:
        "Most members one PATCH or PUT of a Group may name (default 100, which finishes within API Gateway's 30 s at CIAM's rate); a larger list is refused before any write.",
    },
    givenNameAttribute: nameAttribute('name.givenName', 'given_name'),
    familyNameAttribute: nameAttribute('name.familyName', 'family_name'),
    formattedNameAttribute: nameAttribute('name.formatted', 'formatted_name'),
  },
} as const;
