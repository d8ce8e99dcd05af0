import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CreateUserRequest } from '../../lib/ciam/types.ts';
import {
  codePointLength,
  INDEXED_ATTRIBUTE_MAX_CHARS,
  isMappableField,
  MAPPABLE_FIELDS,
  maxCharsOf,
  type UpdateUserDraft,
  type UpdateUserField,
  type UpdateUserRequest,
} from '../../lib/ciam/update-user-fields.ts';

describe('ciam/update-user-fields', () => {
  describe('codePointLength', () => {
    it('counts an astral character once, not as its two UTF-16 units', () => {
      expect(codePointLength('😀')).toBe(1);
      expect(codePointLength('😀'.repeat(512))).toBe(512);
      expect(codePointLength('a😀b')).toBe(3);
      expect(codePointLength('')).toBe(0);
    });

    it('counts a lone surrogate as one character', () => {
      expect(codePointLength('\uD83D')).toBe(1);
      expect(codePointLength('\uDE00\uD83D')).toBe(2);
    });

    it('equals the number of code points the string iterates to', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (value) => {
          expect(codePointLength(value)).toBe(Array.from(value).length);
        }),
      );
    });
  });

  describe('maxCharsOf', () => {
    it('limits the five IndexedAttributes to 512 characters and nothing else', () => {
      expect(INDEXED_ATTRIBUTE_MAX_CHARS).toBe(512);
      for (const index of [1, 2, 3, 4, 5] as const) {
        expect(maxCharsOf(`IndexedAttribute${index}`)).toBe(512);
      }
      for (const field of ['UserId', 'UserName', 'Nickname', 'Address', 'PhoneNumber'] as const) {
        expect(maxCharsOf(field)).toBeUndefined();
      }
    });
  });

  describe('isMappableField', () => {
    it('refuses the fields resolution and the connection supply, and unknown names', () => {
      for (const name of ['UserId', 'UserStoreId', 'Password', 'userName', '__proto__']) {
        expect(isMappableField(name)).toBe(false);
      }
    });

    it('accepts the fields a mapping sets', () => {
      for (const name of ['UserName', 'PhoneNumber', 'CustomizationAttributes', 'UserOrg']) {
        expect(isMappableField(name)).toBe(true);
      }
      expect(MAPPABLE_FIELDS.filter((name) => !isMappableField(name))).toEqual([]);
    });

    it('keeps the request order, which is the order the mapping fills fields in', () => {
      expect(MAPPABLE_FIELDS.slice(0, 3)).toEqual(['UserName', 'PhoneNumber', 'Email']);
      expect(MAPPABLE_FIELDS.at(-1)).toBe('UserOrg');
    });
  });

  describe('derived types', () => {
    it('requires UserId and UserStoreId on the request and UserStoreId alone on the draft', () => {
      expectTypeOf<{ UserId: 'u'; UserStoreId: 's' }>().toExtend<UpdateUserRequest>();
      expectTypeOf<{ UserStoreId: 's' }>().not.toExtend<UpdateUserRequest>();
      expectTypeOf<{ UserStoreId: 's' }>().toExtend<UpdateUserDraft>();
      expectTypeOf<{ Nickname: 'n' }>().not.toExtend<UpdateUserDraft>();
      expectTypeOf<UpdateUserDraft>().not.toHaveProperty('UserId');
    });

    it('types each field from its schema fragment', () => {
      expectTypeOf<UpdateUserRequest['Birthdate']>().toEqualTypeOf<number | undefined>();
      expectTypeOf<UpdateUserRequest['UserGroup']>().toEqualTypeOf<string[] | undefined>();
      expectTypeOf<
        NonNullable<UpdateUserRequest['CustomizationAttributes']>[number]
      >().toEqualTypeOf<{
        Name: string;
        Value: string;
        Type?: string;
      }>();
      expectTypeOf<UpdateUserField>().toEqualTypeOf<
        Exclude<keyof UpdateUserRequest, 'UserId' | 'UserStoreId'>
      >();
    });

    it('keeps CreateUserRequest derived: the five required fields and a password', () => {
      expectTypeOf<CreateUserRequest['Email']>().toEqualTypeOf<string>();
      expectTypeOf<CreateUserRequest['Password']>().toEqualTypeOf<string>();
      expectTypeOf<CreateUserRequest['IndexedAttribute1']>().toEqualTypeOf<string | undefined>();
      expectTypeOf<CreateUserRequest>().not.toHaveProperty('UserId');
    });
  });
});
