// Build-time composition: every connection source type's options schema, for the config schema
// (config/schema.json and the generated config validator). Here rather than in lib/sources, which
// must not reach up into lib/scim: SCIM is a connection type but not a webhook source.
import type { SourceType, WebhookSourceType } from '../lib/config/types.ts';
import { scimOptionsSchema } from '../lib/scim/options.ts';
import { SOURCES } from '../lib/sources/registry.ts';

export const SOURCE_OPTION_SCHEMAS: Readonly<Record<SourceType, Record<string, unknown>>> = {
  ...(Object.fromEntries(
    Object.entries(SOURCES).map(([type, definition]) => [type, definition.optionsSchema]),
  ) as Record<WebhookSourceType, Record<string, unknown>>),
  scim: scimOptionsSchema,
};
