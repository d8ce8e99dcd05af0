import { describe, expect, it } from 'vitest';
import { normalisePhone, toPhoneRegion } from '../../lib/ciam/phone.ts';

describe('ciam/phone', () => {
  describe('normalisePhone', () => {
    it('formats international numbers as E.164', () => {
      expect(normalisePhone('+65 8123 4567')).toEqual({ ok: true, value: '+6581234567' });
      expect(normalisePhone('+86 138 0000 0000')).toEqual({ ok: true, value: '+8613800000000' });
      expect(normalisePhone('  +1 (415) 555-2671 ')).toEqual({ ok: true, value: '+14155552671' });
    });

    it('uses the default region for national numbers', () => {
      expect(normalisePhone('81234567', { defaultRegion: 'SG' })).toEqual({
        ok: true,
        value: '+6581234567',
      });
      expect(normalisePhone('138 0000 0000', { defaultRegion: 'CN' })).toEqual({
        ok: true,
        value: '+8613800000000',
      });
      // An explicit country code wins over the default region.
      expect(normalisePhone('+86 138 0000 0000', { defaultRegion: 'SG' })).toEqual({
        ok: true,
        value: '+8613800000000',
      });
    });

    it('refuses national numbers when no default region is configured', () => {
      expect(normalisePhone('81234567')).toEqual({
        ok: false,
        reason: 'not a phone number in international format (no defaultPhoneRegion configured)',
      });
    });

    it('refuses text that is not a possible phone number', () => {
      for (const value of [
        'not a phone',
        '12345',
        '+6512',
        '+999 1234567',
        'Phone: +6581234567',
        '+65 8123 4567 ext. 12',
        true,
        { number: '+6581234567' },
      ]) {
        expect(normalisePhone(value, { defaultRegion: 'SG' })).toMatchObject({ ok: false });
      }
    });

    it('leaves absent and blank phones out', () => {
      expect(normalisePhone(undefined)).toEqual({ ok: true, value: undefined });
      expect(normalisePhone(null)).toEqual({ ok: true, value: undefined });
      expect(normalisePhone('   ')).toEqual({ ok: true, value: undefined });
    });

    it('never puts the value into the reason', () => {
      const result = normalisePhone('+65 9999 0000 999 999 999');
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain('9999');
    });

    it('writes the international form: country code, one space, ungrouped national number', () => {
      const international = { format: 'international' } as const;
      expect(normalisePhone('+6581234567', international)).toEqual({
        ok: true,
        value: '+65 81234567',
      });
      expect(normalisePhone('138 0000 0000', { ...international, defaultRegion: 'CN' })).toEqual({
        ok: true,
        value: '+86 13800000000',
      });
      // The national trunk prefix (0 in the UK) is not part of the national significant number.
      expect(normalisePhone('020 7946 0958', { ...international, defaultRegion: 'GB' })).toEqual({
        ok: true,
        value: '+44 2079460958',
      });
    });

    it('writes E.164 when the format is e164 or unset', () => {
      expect(normalisePhone('+65 8123 4567', { format: 'e164' })).toEqual({
        ok: true,
        value: '+6581234567',
      });
      expect(normalisePhone('+65 8123 4567', {})).toEqual({ ok: true, value: '+6581234567' });
    });

    it('reads its own international output back to the same number', () => {
      const international = normalisePhone('+44 20 7946 0958', { format: 'international' });
      expect(international.ok && normalisePhone(international.value)).toEqual({
        ok: true,
        value: '+442079460958',
      });
    });
  });

  describe('toPhoneRegion', () => {
    it('accepts supported regions in any case and refuses others', () => {
      expect(toPhoneRegion('sg')).toBe('SG');
      expect(toPhoneRegion('CN')).toBe('CN');
      expect(toPhoneRegion('XX')).toBeUndefined();
    });
  });
});
