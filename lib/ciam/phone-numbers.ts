// What lib/ciam/phone.ts uses of libphonenumber-js, re-exported from its ESM build so the bundle
// keeps only these functions and their metadata (~120 kB instead of the CommonJS build's ~210 kB).
// Loaded on first use by lib/ciam/phone.ts, never imported directly.
export { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/min';
