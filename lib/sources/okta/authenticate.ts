import { SignatureError, ValidationError } from '../../errors.ts';
import type { SecretRef, SecretSource } from '../../secrets/types.ts';
import { matchesStaticSecret } from '../shared/crypto.ts';
import { checkSenderId } from '../shared/sender-id.ts';
import { header } from '../shared/values.ts';
import type { InboundRequest, SourceReply } from '../types.ts';
import type { OktaVerification } from './schema.ts';

export interface OktaAuthSettings {
  /** Lower-cased, as InboundRequest headers are. */
  headerName: string;
  verification: OktaVerification;
  signing: readonly SecretRef[];
}

const CHALLENGE_HEADER = 'x-okta-verification-challenge';

/**
 * Okta sends the configured secret verbatim (no scheme). Every signing secret is loaded (two
 * during a rotation); one that fails to load only matters when no other one matched.
 */
export const authenticateOkta = async (
  settings: OktaAuthSettings,
  request: InboundRequest,
  secrets: SecretSource,
): Promise<void> => {
  const presented = header(request, settings.headerName);
  if (presented === undefined) throw new SignatureError(`Missing ${settings.headerName} header`);
  if (await matchesStaticSecret(presented, settings.signing, secrets)) return;
  throw new SignatureError(`${settings.headerName} does not match the configured secret`);
};

/**
 * The one-time `GET` Okta sends when an admin verifies the hook. Whether Okta attaches the auth
 * header to it is not documented, hence `verification` (default: check it when present).
 */
export const answerOktaChallenge = async (
  settings: OktaAuthSettings,
  request: InboundRequest,
  secrets: SecretSource,
): Promise<SourceReply> => {
  const checkAuth =
    settings.verification === 'required' ||
    (settings.verification === 'if-present' && header(request, settings.headerName) !== undefined);
  if (checkAuth) await authenticateOkta(settings, request, secrets);
  const verification = header(request, CHALLENGE_HEADER);
  if (verification === undefined) {
    throw new ValidationError('PAYLOAD_INVALID', `Missing ${CHALLENGE_HEADER} header`, {
      details: [{ path: `/headers/${CHALLENGE_HEADER}`, message: 'is required' }],
    });
  }
  // Okta's challenge is short; a long one would be echoed back and logged verbatim.
  checkSenderId(verification, `/headers/${CHALLENGE_HEADER}`);
  return { statusCode: 200, body: { verification } };
};
