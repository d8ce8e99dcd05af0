import type { SignDelivery } from '../shared/sender.ts';
import type { OktaOptions } from './schema.ts';

/** Okta Event Hooks send the configured secret verbatim, in `Authorization` unless told otherwise. */
export const signOktaDelivery: SignDelivery<Pick<OktaOptions, 'headerName'>> = (
  { secret },
  options = {},
) => ({ [options.headerName ?? 'authorization']: secret });
