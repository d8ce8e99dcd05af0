import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UpdateUserRequest } from '../../lib/ciam/types.ts';
import { codePointLength, INDEXED_ATTRIBUTE_MAX_CHARS } from '../../lib/ciam/update-user-fields.ts';
import {
  assertValidUpdateUser,
  validateUpdateUserDraft,
} from '../../lib/ciam/update-user-schema.ts';

/** `satisfies Required<…>`: fails to compile when UPDATE_USER_FIELDS gains a field not used here. */
const FULL = {
  UserId: 'u-1',
  UserStoreId: 's-1',
  UserName: 'zhangsan',
  PhoneNumber: '+6581234567',
  Email: 'ana@example.com',
  Nickname: '昵称1',
  Address: '北京市海淀区',
  UserGroup: ['g-1'],
  Birthdate: 1706682491339,
  CustomizationAttributes: [
    { Name: 'k', Value: 'v', Type: 'STRING' },
    { Name: 'n', Value: '' },
  ],
  IndexedAttribute1: 'a'.repeat(512),
  IndexedAttribute2: 'b',
  IndexedAttribute3: 'c',
  IndexedAttribute4: 'd',
  IndexedAttribute5: 'e',
  UserOrg: ['o-1', 'o-2'],
} satisfies Required<UpdateUserRequest>;

const caught = (fn: () => void): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

const issuesOf = (request: unknown) => caught(() => assertValidUpdateUser(request));

describe('ciam/update-user-schema', () => {
  describe('assertValidUpdateUser', () => {
    it('accepts a request using every field', () => {
      expect(() => assertValidUpdateUser(FULL)).not.toThrow();
    });

    it('counts IndexedAttribute characters as code points: 512 astral ones fit, 513 do not', () => {
      const astral = '😀'.repeat(512);
      expect(astral).toHaveLength(1024);
      expect(() =>
        assertValidUpdateUser({ UserId: 'u', UserStoreId: 's', IndexedAttribute1: astral }),
      ).not.toThrow();
      expect(
        issuesOf({ UserId: 'u', UserStoreId: 's', IndexedAttribute1: `${astral}😀` }),
      ).toMatchObject({
        code: 'REQUEST_INVALID',
        details: [
          { path: '/IndexedAttribute1', message: 'must NOT have more than 512 characters' },
        ],
      });
    });

    it('agrees with codePointLength on the 512 limit', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', minLength: 500, maxLength: 530 }), (value) => {
          const request = { UserId: 'u', UserStoreId: 's', IndexedAttribute3: value };
          const accepted = (() => {
            try {
              assertValidUpdateUser(request);
              return true;
            } catch {
              return false;
            }
          })();
          expect(accepted).toBe(codePointLength(value) <= INDEXED_ATTRIBUTE_MAX_CHARS);
        }),
      );
    });

    it('accepts the minimal request', () => {
      expect(() => assertValidUpdateUser({ UserId: 'u', UserStoreId: 's' })).not.toThrow();
    });

    it.each([
      [{ UserStoreId: 's' }, '/UserId', "must have required property 'UserId'"],
      [{ UserId: 'u' }, '/UserStoreId', "must have required property 'UserStoreId'"],
      [{ UserId: '', UserStoreId: 's' }, '/UserId', 'must NOT have fewer than 1 characters'],
      [{ UserId: 'u', UserStoreId: '' }, '/UserStoreId', 'must NOT have fewer than 1 characters'],
      [{ UserId: 7, UserStoreId: 's' }, '/UserId', 'must be string'],
      [
        { UserId: 'u', UserStoreId: 's', IndexedAttribute1: 'x'.repeat(513) },
        '/IndexedAttribute1',
        'must NOT have more than 512 characters',
      ],
      [
        { UserId: 'u', UserStoreId: 's', IndexedAttribute5: 'x'.repeat(600) },
        '/IndexedAttribute5',
        'must NOT have more than 512 characters',
      ],
      [{ UserId: 'u', UserStoreId: 's', Birthdate: 1.5 }, '/Birthdate', 'must be integer'],
      [{ UserId: 'u', UserStoreId: 's', Birthdate: '2000-01-01' }, '/Birthdate', 'must be integer'],
      [{ UserId: 'u', UserStoreId: 's', UserGroup: 'g-1' }, '/UserGroup', 'must be array'],
      [{ UserId: 'u', UserStoreId: 's', UserGroup: [1] }, '/UserGroup/0', 'must be string'],
      [{ UserId: 'u', UserStoreId: 's', UserOrg: [null] }, '/UserOrg/0', 'must be string'],
      [{ UserId: 'u', UserStoreId: 's', Email: null }, '/Email', 'must be string'],
      [
        { UserId: 'u', UserStoreId: 's', CustomizationAttributes: [{ Name: 'k' }] },
        '/CustomizationAttributes/0/Value',
        "must have required property 'Value'",
      ],
      [
        { UserId: 'u', UserStoreId: 's', CustomizationAttributes: [{ Name: 'k', Value: 1 }] },
        '/CustomizationAttributes/0/Value',
        'must be string',
      ],
      [
        {
          UserId: 'u',
          UserStoreId: 's',
          CustomizationAttributes: [{ Name: 'k', Value: 'v', Extra: 'x' }],
        },
        '/CustomizationAttributes/0/Extra',
        'must NOT have additional properties',
      ],
      [
        { UserId: 'u', UserStoreId: 's', Nickname: 'n', Unknown: 'x' },
        '/Unknown',
        'must NOT have additional properties',
      ],
    ])('rejects %j at %s', (request, path, message) => {
      expect(issuesOf(request)).toMatchObject({
        name: 'ValidationError',
        code: 'REQUEST_INVALID',
        statusCode: 422,
        expose: true,
        details: [{ path, message }],
      });
    });

    it.each([null, 'x', 42, [], undefined])('rejects the non-object %j', (request) => {
      expect(issuesOf(request)).toMatchObject({
        code: 'REQUEST_INVALID',
        details: [{ path: '', message: 'must be object' }],
      });
    });

    it('reports every problem at once', () => {
      const error = issuesOf({
        UserStoreId: 's',
        IndexedAttribute2: 'x'.repeat(513),
        Birthdate: 'x',
      });
      expect((error as { details: unknown[] }).details).toEqual(
        expect.arrayContaining([
          { path: '/UserId', message: "must have required property 'UserId'" },
          { path: '/IndexedAttribute2', message: 'must NOT have more than 512 characters' },
          { path: '/Birthdate', message: 'must be integer' },
        ]),
      );
    });

    it('never puts values into the error', () => {
      const email = 'private.person@example.com';
      const error = issuesOf({ UserId: 'u', UserStoreId: 's', Email: [email], Phone: email });
      expect(JSON.stringify((error as { details: unknown }).details)).not.toContain(email);
      expect((error as Error).message).not.toContain(email);
    });
  });

  describe('validateUpdateUserDraft', () => {
    const { UserId: _userId, ...draft } = FULL;

    it('accepts a full draft without UserId', () => {
      expect(() => validateUpdateUserDraft(draft)).not.toThrow();
    });

    it('rejects a UserId in the draft, naming it', () => {
      expect(caught(() => validateUpdateUserDraft({ ...draft, UserId: 'u' }))).toMatchObject({
        code: 'MAPPING_INVALID',
        statusCode: 422,
        details: [{ path: '/UserId', message: 'must NOT have additional properties' }],
      });
    });

    it('applies the same field rules as the request', () => {
      const error = caught(() =>
        validateUpdateUserDraft({ UserStoreId: 's', IndexedAttribute3: 'x'.repeat(513) }),
      );
      expect(error).toMatchObject({
        name: 'ValidationError',
        code: 'MAPPING_INVALID',
        details: [
          { path: '/IndexedAttribute3', message: 'must NOT have more than 512 characters' },
        ],
      });
    });

    it('requires a UserStoreId', () => {
      expect(caught(() => validateUpdateUserDraft({ Nickname: 'n' }))).toMatchObject({
        code: 'MAPPING_INVALID',
        details: [{ path: '/UserStoreId', message: "must have required property 'UserStoreId'" }],
      });
    });
  });
});
