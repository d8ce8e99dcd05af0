import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone } from '../../lib/log/mask.ts';

describe('mask', () => {
  it('keeps two characters and the domain of an email', () => {
    expect(maskEmail('alice@example.com')).toBe('al***@example.com');
    expect(maskEmail('a@example.com')).toBe('a***@example.com');
    expect(maskEmail('not-an-email')).toBe('***');
  });

  it('keeps the country prefix and last two digits of a phone', () => {
    expect(maskPhone('+6581234567')).toBe('+65******67');
    expect(maskPhone('+65 8123 4567')).toBe('+65******67');
    expect(maskPhone('123')).toBe('***');
  });

  it('never returns the local part of an email or the middle digits of a phone', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.]{3,20}$/), (local) => {
        expect(maskEmail(`${local}@example.com`)).not.toContain(local);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9]\d{9,13}$/), (phone) => {
        expect(maskPhone(phone)).not.toContain(phone.slice(3, -2));
      }),
    );
  });
});
