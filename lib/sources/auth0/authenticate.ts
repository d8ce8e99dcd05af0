import { SignatureError } from '../../errors.ts';
import type { SecretRef, SecretSource } from '../../secrets/types.ts';
import { matchesStaticSecret } from '../shared/crypto.ts';
import { header } from '../shared/values.ts';
import type { InboundRequest } from '../types.ts';
import type { Auth0AuthMode } from './schema.ts';

export interface Auth0AuthSettings {
  mode: Auth0AuthMode;
  /** Lower-cased, as InboundRequest headers are. */
  headerName: string;
  signing: readonly SecretRef[];
}

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/** The credential as it is stored in the secret: the token, `user:pass`, or the header value. */
const presentedCredential = (mode: Auth0AuthMode, headerValue: string): string | undefined => {
  if (mode === 'header') return headerValue;
  if (mode === 'bearer') return BEARER.exec(headerValue)?.[1];
  const encoded = BASIC.exec(headerValue)?.[1];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
};

export const authenticateAuth0 = async (
  settings: Auth0AuthSettings,
  request: InboundRequest,
  secrets: SecretSource,
): Promise<void> => {
  const headerValue = header(request, settings.headerName);
  if (headerValue === undefined) {
    throw new SignatureError(`Missing ${settings.headerName} header`);
  }
  const presented = presentedCredential(settings.mode, headerValue);
  if (presented === undefined || presented.length === 0) {
    throw new SignatureError(`Malformed ${settings.headerName} header for ${settings.mode} auth`);
  }
  if (!(await matchesStaticSecret(presented, settings.signing, secrets))) {
    throw new SignatureError('Credentials do not match the configured secret');
  }
};
