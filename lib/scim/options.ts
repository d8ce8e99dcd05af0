// Pure data and types: read by the SCIM service and, at build time, by the config schema.

/** What `active: false` and `DELETE /Users/{id}` do to the CIAM user. */
export type ScimDeactivate = 'ignore' | 'freeze';

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
}

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
  },
} as const;
