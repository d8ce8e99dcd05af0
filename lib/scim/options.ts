// Kept free of runtime imports: lib/config loads it at cold start for the options schema.

/** What `active: false` and `DELETE /Users/{id}` do to the CIAM user. */
export type ScimDeactivate = 'ignore';

export interface ScimOptions {
  /**
   * `ignore` (default): answer as if done and leave the CIAM user as it is. Freezing the user
   * (UpdateUserStatus) is not offered yet: the emulator does not implement that action.
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
      enum: ['ignore'],
      description:
        'What active:false and DELETE do: "ignore" (default) leaves the CIAM user as is.',
    },
    allowCreate: {
      type: 'boolean',
      description: 'POST /Users creates the CIAM user when resolution finds none (default false).',
    },
    maxPageSize: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;
