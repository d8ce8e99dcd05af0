import type { SignDelivery } from '../shared/sender.ts';
import type { Auth0Options } from './schema.ts';

/**
 * Auth0 Event Streams present the stored credential on every delivery: a bearer token, `user:pass`
 * as basic auth, or a custom header's value verbatim.
 */
export const signAuth0Delivery: SignDelivery<Pick<Auth0Options, 'auth' | 'headerName'>> = (
  { secret },
  options = {},
) => {
  const mode = options.auth ?? 'bearer';
  const value =
    mode === 'bearer'
      ? `Bearer ${secret}`
      : mode === 'basic'
        ? `Basic ${Buffer.from(secret, 'utf8').toString('base64')}`
        : secret;
  return { [options.headerName ?? 'authorization']: value };
};
