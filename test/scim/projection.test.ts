import { describe, expect, it } from 'vitest';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, type ScimObject } from '../../lib/scim/patch.ts';
import { projectionOf } from '../../lib/scim/projection.ts';
import { thrown } from '../helpers/thrown.ts';

const jane: ScimObject = {
  schemas: [CORE_USER_SCHEMA],
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'jane',
  name: { familyName: 'Doe', givenName: 'Jane' },
  displayName: 'Jane Doe',
  emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
  phoneNumbers: [{ value: '+6581234567', type: 'mobile', primary: true }],
  active: true,
  meta: { resourceType: 'User', lastModified: '2025-01-01T00:00:00.000Z' },
};
const withDepartment: ScimObject = { ...jane, [ENTERPRISE_USER_SCHEMA]: { department: 'Sales' } };

describe('scim/projection without either parameter', () => {
  it('answers the user as rendered', () => {
    for (const query of [{}, { attributes: '' }, { excludedAttributes: ' , ' }]) {
      expect(projectionOf(query)(jane)).toEqual(jane);
    }
  });
});

describe('scim/projection attributes', () => {
  it('keeps only the attributes listed, with id and schemas always', () => {
    expect(projectionOf({ attributes: 'userName,active' })(jane)).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
      userName: 'jane',
      active: true,
    });
  });

  it('reads names in any case, with the core URN before them, and spaces around commas', () => {
    expect(
      projectionOf({
        attributes: ` USERNAME , ${CORE_USER_SCHEMA}:name.givenName,Meta.LastModified`,
      })(jane),
    ).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
      userName: 'jane',
      name: { givenName: 'Jane' },
      meta: { lastModified: '2025-01-01T00:00:00.000Z' },
    });
  });

  it('keeps a sub-attribute of every element of a multi-valued attribute', () => {
    expect(projectionOf({ attributes: 'emails.value,emails.type' })(jane)).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
      emails: [{ value: 'jane@example.com', type: 'work' }],
    });
  });

  it('keeps a whole attribute named along with one of its parts', () => {
    const name = { familyName: 'Doe', givenName: 'Jane' };
    expect(projectionOf({ attributes: 'name.givenName,name' })(jane).name).toEqual(name);
    expect(projectionOf({ attributes: 'name,name.givenName' })(jane).name).toEqual(name);
  });

  it('leaves out what the user does not hold, and names it does not know', () => {
    expect(projectionOf({ attributes: 'nickName,title,addresses.region' })(jane)).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
    });
  });

  it('selects an extension’s attribute by its URN, or the whole extension', () => {
    expect(
      projectionOf({ attributes: `${ENTERPRISE_USER_SCHEMA}:department` })(withDepartment),
    ).toEqual({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
      [ENTERPRISE_USER_SCHEMA]: { department: 'Sales' },
    });
    expect(
      projectionOf({ attributes: ENTERPRISE_USER_SCHEMA.toLowerCase() })(withDepartment),
    ).toHaveProperty([ENTERPRISE_USER_SCHEMA], { department: 'Sales' });
  });

  it('reads the core schema’s URN alone as every core attribute, and no extension', () => {
    expect(projectionOf({ attributes: CORE_USER_SCHEMA })(withDepartment)).toEqual(jane);
  });
});

describe('scim/projection excludedAttributes', () => {
  it('drops the attributes and parts listed', () => {
    const { emails: _emails, meta: _meta, ...rest } = jane;
    expect(projectionOf({ excludedAttributes: 'emails,name.familyName,meta' })(jane)).toEqual({
      ...rest,
      name: { givenName: 'Jane' },
    });
  });

  it('drops a sub-attribute from every element, and an extension’s attribute by its URN', () => {
    const out = projectionOf({
      excludedAttributes: `phoneNumbers.primary,${ENTERPRISE_USER_SCHEMA}:department`,
    })(withDepartment);
    expect(out.phoneNumbers).toEqual([{ value: '+6581234567', type: 'mobile' }]);
    expect(out[ENTERPRISE_USER_SCHEMA]).toEqual({});
  });

  it('never drops id or schemas', () => {
    expect(projectionOf({ excludedAttributes: 'id,schemas,userName' })(jane)).toMatchObject({
      schemas: [CORE_USER_SCHEMA],
      id: 'u-1',
    });
    expect(projectionOf({ excludedAttributes: 'id,schemas,userName' })(jane)).not.toHaveProperty(
      'userName',
    );
  });

  it('leaves the rendered user as it was', () => {
    const before = structuredClone(jane);
    projectionOf({ excludedAttributes: 'name.givenName,emails.value' })(jane);
    projectionOf({ attributes: 'name.givenName' })(jane);
    expect(jane).toEqual(before);
  });
});

describe('scim/projection refusals (invalidValue, before anything is done)', () => {
  it.each([
    [{ attributes: 'userName', excludedAttributes: 'emails' }, 'cannot be used together'],
    [{ attributes: 'emails[type eq "work"].value' }, 'not filters'],
    [{ excludedAttributes: 'user name' }, '"user name" is not an attribute name'],
    [{ attributes: 'name..givenName' }, 'is not an attribute name'],
  ])('refuses %o', (query, message) => {
    expect(thrown(() => projectionOf(query))).toMatchObject({
      code: 'SCIM_INVALID_VALUE',
      message: expect.stringContaining(message),
    });
  });
});
