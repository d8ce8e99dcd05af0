import type { SignDelivery } from '../shared/sender.ts';
import { signWorkos, WORKOS_SIGNATURE_HEADER } from './signature.ts';

/** WorkOS signs the body with a millisecond timestamp; the event id travels in the body. */
export const signWorkosDelivery: SignDelivery = ({ body, secret, nowMs }) => ({
  [WORKOS_SIGNATURE_HEADER]: signWorkos(secret, nowMs, body),
});
