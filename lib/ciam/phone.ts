// The `min` metadata (~80 kB) instead of `max` (~150 kB): every byte is parsed when it is loaded,
// and `max` only adds per-country digit patterns that `isPossible()` does not need. Loaded on
// first use: a function that never sees a phone never pays for it.
import type { CountryCode } from 'libphonenumber-js/min';
import { requireOnFirstUse } from '../require-on-first-use.ts';
import type * as phoneNumbers from './phone-numbers.ts';
import { DEFAULT_PHONE_FORMAT, type PhoneFormat } from './update-user-fields.ts';

/**
 * Bundled: our ESM re-export, so esbuild tree-shakes libphonenumber-js as for an `import` (a
 * `require` of the package itself would pull in its whole CommonJS build). Under tsx and vitest,
 * which cannot `require` TypeScript, the same version's CommonJS build.
 */
const loadPhoneNumbers = requireOnFirstUse<typeof phoneNumbers>('libphonenumber-js/min', () =>
  require('./phone-numbers.ts'),
);

export interface PhoneOptions {
  /** Region for numbers without a country code; from `toPhoneRegion`. */
  defaultRegion?: CountryCode;
  /** The form CIAM stores; `e164` unless configured. */
  format?: PhoneFormat;
}

/**
 * `value: undefined` means "no phone" (absent or blank). `reason` never contains the value:
 * phone numbers are personal data.
 */
export type PhoneResult = { ok: true; value: string | undefined } | { ok: false; reason: string };

/** A configured `mapping.defaultPhoneRegion` as libphonenumber's code; undefined if unsupported. */
export const toPhoneRegion = (region: string): CountryCode | undefined => {
  const upper = region.toUpperCase();
  return loadPhoneNumbers().isSupportedCountry(upper) ? upper : undefined;
};

/**
 * A phone number in the form CIAM stores it. The mapping writes PhoneNumber with this and user
 * resolution looks users up with it, so the two always agree on one user's number.
 *
 * - `e164` (default): `+6581234567`.
 * - `international`: `+65 81234567`, `+86 13800000000`: the country calling code, one space, the
 *   national significant number without grouping.
 *
 * CIAM documents no phone format for the management API: UpdateUser-api.txt says only "Mobile
 * number", its examples are masked mainland numbers (`132****0000`), and the accepted form is the
 * user store's console regex (tencent-cloud-api.md §4.3). The only country-code form in the
 * reference is the one above (its "+86 …" note and the CIAM request signed in §1.3,
 * `"+65 81234567"`); libphonenumber's `formatInternational()` groups digits (`+65 8123 4567`,
 * `+86 138 0000 0000`), which no Tencent text shows, so it is not used.
 */
export const normalisePhone = (value: unknown, options: PhoneOptions = {}): PhoneResult => {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  let text: string;
  if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'string') text = value.trim();
  else return { ok: false, reason: 'expected a string' };
  if (text === '') return { ok: true, value: undefined };

  const { defaultRegion } = options;
  // extract: false refuses text around the number instead of guessing which part is the phone.
  const parsed = loadPhoneNumbers().parsePhoneNumberFromString(text, {
    ...(defaultRegion === undefined ? {} : { defaultCountry: defaultRegion }),
    extract: false,
  });
  if (parsed === undefined) {
    return {
      ok: false,
      reason:
        defaultRegion === undefined
          ? 'not a phone number in international format (no defaultPhoneRegion configured)'
          : 'not a phone number',
    };
  }
  // isPossible (length) rather than isValid: `min` metadata has no digit patterns, and digit
  // validation rejects newly allocated ranges until the library is upgraded.
  if (!parsed.isPossible()) return { ok: false, reason: 'not a possible phone number' };
  // Neither form has an extension; dropping it silently would change the number the user gave.
  if (parsed.ext !== undefined) {
    return { ok: false, reason: 'phone numbers with an extension are not supported' };
  }
  const format = options.format ?? DEFAULT_PHONE_FORMAT;
  return {
    ok: true,
    value:
      format === 'international'
        ? `+${parsed.countryCallingCode} ${parsed.nationalNumber}`
        : parsed.number,
  };
};
