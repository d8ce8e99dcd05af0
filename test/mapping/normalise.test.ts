import { describe, expect, it } from 'vitest';
import {
  normaliseBirthdate,
  normaliseCustomAttributes,
  normaliseField,
} from '../../lib/mapping/normalise.ts';

const options = { phone: {}, customAttributeType: 'STRING' };

describe('mapping/normalise', () => {
  describe('normaliseBirthdate', () => {
    it('turns a date into epoch ms at UTC midnight', () => {
      expect(normaliseBirthdate('1990-05-01')).toEqual({ ok: true, value: Date.UTC(1990, 4, 1) });
      expect(normaliseBirthdate(' 2000-02-29 ')).toEqual({
        ok: true,
        value: Date.UTC(2000, 1, 29),
      });
    });

    it('keeps the calendar date of an ISO date-time as written', () => {
      const may1 = Date.UTC(1990, 4, 1);
      expect(normaliseBirthdate('1990-05-01T00:00:00+08:00')).toEqual({ ok: true, value: may1 });
      expect(normaliseBirthdate('1990-05-01T23:59:59.999Z')).toEqual({ ok: true, value: may1 });
      expect(normaliseBirthdate('1990-05-01T12:30-0500')).toEqual({ ok: true, value: may1 });
      expect(normaliseBirthdate('1990-05-01 08:00:00')).toEqual({ ok: true, value: may1 });
    });

    it('reads integers as epoch ms and truncates them to their UTC date', () => {
      expect(normaliseBirthdate(1706682491339)).toEqual({ ok: true, value: Date.UTC(2024, 0, 31) });
      expect(normaliseBirthdate(Date.UTC(1990, 4, 1))).toEqual({
        ok: true,
        value: Date.UTC(1990, 4, 1),
      });
      // Before 1970: truncation rounds towards the earlier midnight, not towards zero.
      expect(normaliseBirthdate(Date.UTC(1960, 6, 4, 15))).toEqual({
        ok: true,
        value: Date.UTC(1960, 6, 4),
      });
      expect(normaliseBirthdate(-1)).toEqual({ ok: true, value: Date.UTC(1969, 11, 31) });
      expect(normaliseBirthdate(-0)).toEqual({ ok: true, value: 0 });
    });

    it('accepts the edges of the year range', () => {
      expect(normaliseBirthdate('1800-01-01')).toEqual({ ok: true, value: Date.UTC(1800, 0, 1) });
      expect(normaliseBirthdate('9999-12-31')).toEqual({
        ok: true,
        value: Date.UTC(9999, 11, 31),
      });
    });

    it('refuses strings that are not ISO dates', () => {
      for (const value of [
        '01/05/1990',
        '1990-5-1',
        '19900501',
        'yesterday',
        '1990-13-01',
        '1990-02-30',
        '1990-00-10',
        '1990-05-01T25:00',
        '1990-05-01T10:61',
        '1990-05-01T10:00+25:00',
        '1990-05-01Tfoo',
        '631152000000',
      ]) {
        expect(normaliseBirthdate(value), value).toMatchObject({ ok: false });
      }
    });

    it('refuses dates outside 1800..9999', () => {
      expect(normaliseBirthdate('1799-12-31')).toMatchObject({ ok: false });
      expect(normaliseBirthdate(Date.UTC(1799, 11, 31))).toMatchObject({ ok: false });
      expect(normaliseBirthdate(Date.UTC(10000, 0, 1))).toMatchObject({ ok: false });
      expect(normaliseBirthdate(9_000_000_000_000_000)).toMatchObject({ ok: false });
    });

    it('refuses numbers that are not integers and other types', () => {
      for (const value of [1.5, Number.NaN, Number.POSITIVE_INFINITY, true, {}, ['1990-05-01']]) {
        expect(normaliseBirthdate(value)).toMatchObject({ ok: false });
      }
    });

    it('leaves absent and blank birthdates out', () => {
      expect(normaliseBirthdate(undefined)).toEqual({ ok: true, value: undefined });
      expect(normaliseBirthdate(null)).toEqual({ ok: true, value: undefined });
      expect(normaliseBirthdate('  ')).toEqual({ ok: true, value: undefined });
    });
  });

  describe('normaliseCustomAttributes', () => {
    it('converts an object into MemberMaps sorted by Name', () => {
      const result = normaliseCustomAttributes(
        { tier: 'gold', score: 42, beta: true, prefs: { lang: 'en' }, tags: ['a', 'b'] },
        'STRING',
      );
      expect(result).toEqual({
        ok: true,
        value: [
          { Name: 'beta', Value: 'true', Type: 'STRING' },
          { Name: 'prefs', Value: '{"lang":"en"}', Type: 'STRING' },
          { Name: 'score', Value: '42', Type: 'STRING' },
          { Name: 'tags', Value: '["a","b"]', Type: 'STRING' },
          { Name: 'tier', Value: 'gold', Type: 'STRING' },
        ],
      });
    });

    it('sorts by code unit, not by locale', () => {
      const result = normaliseCustomAttributes({ b: '1', B: '2', a: '3', _: '4' }, 'STRING');
      expect(result.ok && result.value?.map((item) => item.Name)).toEqual(['B', '_', 'a', 'b']);
    });

    it('keeps string values as they are', () => {
      expect(normaliseCustomAttributes({ note: '  spaced  ' }, 'STRING')).toEqual({
        ok: true,
        value: [{ Name: 'note', Value: '  spaced  ', Type: 'STRING' }],
      });
    });

    it('skips prototype keys, null values, blank values and blank names', () => {
      const parsed: unknown = JSON.parse(
        '{"__proto__":{"polluted":"yes"},"constructor":"x","prototype":"y","gone":null,"blank":"  ","":"z","kept":"v"}',
      );
      expect(normaliseCustomAttributes(parsed, 'STRING')).toEqual({
        ok: true,
        value: [{ Name: 'kept', Value: 'v', Type: 'STRING' }],
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('uses the configured Type', () => {
      expect(normaliseCustomAttributes({ a: 'b' }, 'ENUM')).toEqual({
        ok: true,
        value: [{ Name: 'a', Value: 'b', Type: 'ENUM' }],
      });
    });

    it('accepts MemberMap items, keeping their own Type', () => {
      expect(
        normaliseCustomAttributes(
          [
            { Name: 'z', Value: 'last' },
            { Name: 'a', Value: 7, Type: 'NUMBER' },
            { Name: 'gone', Value: null },
            { Name: '__proto__', Value: 'x' },
            { Name: 'blankType', Value: 'v', Type: ' ' },
          ],
          'STRING',
        ),
      ).toEqual({
        ok: true,
        value: [
          { Name: 'a', Value: '7', Type: 'NUMBER' },
          { Name: 'blankType', Value: 'v', Type: 'STRING' },
          { Name: 'z', Value: 'last', Type: 'STRING' },
        ],
      });
    });

    it('refuses malformed items, duplicate Names and other types', () => {
      for (const value of [
        'text',
        42,
        [{ Value: 'no name' }],
        [{ Name: 1, Value: 'x' }],
        [{ Name: 'a', Value: 'x', Type: 3 }],
        ['a'],
        [
          { Name: 'a', Value: '1' },
          { Name: 'a', Value: '2' },
        ],
        { fn: () => 'source text' },
      ]) {
        expect(normaliseCustomAttributes(value, 'STRING')).toMatchObject({ ok: false });
      }
    });

    it('leaves an empty result out', () => {
      expect(normaliseCustomAttributes({}, 'STRING')).toEqual({ ok: true, value: undefined });
      expect(normaliseCustomAttributes({ a: null }, 'STRING')).toEqual({
        ok: true,
        value: undefined,
      });
      expect(normaliseCustomAttributes([], 'STRING')).toEqual({ ok: true, value: undefined });
    });
  });

  describe('normaliseField', () => {
    it('trims strings, converts numbers and drops blanks', () => {
      expect(normaliseField('Email', '  a@example.com ', options)).toEqual({
        ok: true,
        value: 'a@example.com',
      });
      expect(normaliseField('UserName', 1234, options)).toEqual({ ok: true, value: '1234' });
      expect(normaliseField('Nickname', ' \t ', options)).toEqual({ ok: true, value: undefined });
    });

    it('refuses non-strings for string fields', () => {
      for (const value of [true, { a: 1 }, ['a'], Number.NaN]) {
        expect(normaliseField('Address', value, options)).toMatchObject({ ok: false });
      }
    });

    it('turns lists into trimmed, de-duplicated string arrays', () => {
      expect(normaliseField('UserGroup', [' g1 ', 'g2', 'g1', '', null, 7], options)).toEqual({
        ok: true,
        value: ['g1', 'g2', '7'],
      });
      expect(normaliseField('UserOrg', 'org_1', options)).toEqual({ ok: true, value: ['org_1'] });
      expect(normaliseField('UserOrg', [' ', null], options)).toEqual({
        ok: true,
        value: undefined,
      });
      expect(normaliseField('UserGroup', [{ id: 'g' }], options)).toMatchObject({ ok: false });
      expect(normaliseField('UserGroup', { id: 'g' }, options)).toMatchObject({ ok: false });
    });

    it('counts IndexedAttribute characters as code points: 512 astral ones fit, 513 do not', () => {
      const astral = '😀'.repeat(512);
      expect(astral).toHaveLength(1024);
      expect(normaliseField('IndexedAttribute2', astral, options)).toEqual({
        ok: true,
        value: astral,
      });
      expect(normaliseField('IndexedAttribute2', `${astral}😀`, options)).toEqual({
        ok: false,
        reason: 'longer than 512 characters',
      });
    });

    it('accepts IndexedAttribute values of 512 characters and refuses 513', () => {
      expect(normaliseField('IndexedAttribute1', 'x'.repeat(512), options)).toEqual({
        ok: true,
        value: 'x'.repeat(512),
      });
      expect(normaliseField('IndexedAttribute5', ` ${'x'.repeat(512)} `, options)).toEqual({
        ok: true,
        value: 'x'.repeat(512),
      });
      expect(normaliseField('IndexedAttribute3', 'x'.repeat(513), options)).toMatchObject({
        ok: false,
      });
    });

    it('sets no length limit on other string fields', () => {
      expect(normaliseField('Address', 'x'.repeat(2000), options)).toEqual({
        ok: true,
        value: 'x'.repeat(2000),
      });
    });

    it('routes phones, birthdates and custom attributes to their normalisers', () => {
      expect(
        normaliseField('PhoneNumber', '81234567', { ...options, phone: { defaultRegion: 'SG' } }),
      ).toEqual({ ok: true, value: '+6581234567' });
      expect(
        normaliseField('PhoneNumber', '+65 8123 4567', {
          ...options,
          phone: { format: 'international' },
        }),
      ).toEqual({ ok: true, value: '+65 81234567' });
      expect(normaliseField('Birthdate', '1990-05-01', options)).toEqual({
        ok: true,
        value: Date.UTC(1990, 4, 1),
      });
      expect(normaliseField('CustomizationAttributes', { a: 1 }, options)).toEqual({
        ok: true,
        value: [{ Name: 'a', Value: '1', Type: 'STRING' }],
      });
    });
  });
});
