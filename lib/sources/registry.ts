import type { WebhookSourceType } from '../config/types.ts';
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
