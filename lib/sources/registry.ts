import type { SourceType, WebhookSourceType } from '../config/types.ts';
import { scimOptionsSchema } from '../scim/options.ts';
import { auth0Source } from './auth0/index.ts';
import { hmacSource } from './hmac/index.ts';
import { oktaSource } from './okta/index.ts';
import { standardWebhooksSource } from './standard-webhooks/index.ts';
import { eraseParsed, type SourceDefinition } from './types.ts';
import { workosSource } from './workos/index.ts';

export const SOURCES: Readonly<Record<WebhookSourceType, SourceDefinition>> = {
  'standard-webhooks': eraseParsed(standardWebhooksSource),
  workos: eraseParsed(workosSource),
  auth0: eraseParsed(auth0Source),
  okta: eraseParsed(oktaSource),
  hmac: eraseParsed(hmacSource),
};

/** Every source type's options schema; `scim` is not a webhook source but shares connections. */
export const SOURCE_OPTION_SCHEMAS: Record<SourceType, Record<string, unknown>> = {
  ...(Object.fromEntries(
    Object.entries(SOURCES).map(([type, definition]) => [type, definition.optionsSchema]),
  ) as Record<WebhookSourceType, Record<string, unknown>>),
  scim: scimOptionsSchema,
};
