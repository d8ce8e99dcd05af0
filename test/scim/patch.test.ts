import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAdapterError } from '../../lib/errors.ts';
import { scimErrorResponse } from '../../lib/scim/errors.ts';
import { parseFilter, toUserQuery } from '../../lib/scim/filter.ts';
import {
  applyPatch,
  compilePatch,
  ENTERPRISE_USER_SCHEMA,
  parsePath,
  type ScimObject,
} from '../../lib/scim/patch.ts';

const patch = (resource: ScimObject, ...operations: unknown[]) =>
  applyPatch(resource, compilePatch({ Operations: operations }));

const alice: ScimObject = {
  id: 'u1',
  userName: 'alice',
  emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
  phoneNumbers: [{ value: '+6581234567', type: 'mobile' }],
  active: true,
};

describe('scim/patch parsePath', () => {
  it('reads attributes, sub-attributes, value filters and extension URNs', () => {
    expect(parsePath('name.givenName')).toEqual({ attribute: 'name', sub: 'givenName' });
    expect(parsePath('Emails[Type eq "work"].Value')).toMatchObject({
      attribute: 'emails',
      sub: 'value',
      filter: { op: 'eq', attrPath: 'Type', compValue: 'work' },
    });
    expect(parsePath(`${ENTERPRISE_USER_SCHEMA}:department`)).toEqual({
      container: ENTERPRISE_USER_SCHEMA,
      attribute: 'department',
    });
    expect(parsePath('urn:ietf:params:scim:schemas:core:2.0:User:userName')).toEqual({
      attribute: 'userName',
    });
    expect(parsePath('urn:acme:2.0:User:badge')).toEqual({
      container: 'urn:acme:2.0:User',
      attribute: 'badge',
    });
  });
});

describe('scim/patch applyPatch', () => {
  it('leaves the input resource unchanged', () => {
    const before = structuredClone(alice);
    patch(alice, { op: 'replace', path: 'userName', value: 'x' });
    expect(alice).toEqual(before);
  });

  it('replaces the element of a type on add, since each type appears once (Entra)', () => {
    const result = patch(alice, {
      op: 'add',
      path: 'emails',
      value: [{ value: 'new@example.com', type: 'Work' }],
    });
    expect(result.emails).toEqual([{ value: 'new@example.com', type: 'Work' }]);
  });

  it('removes elements by filter, sub-attributes by filter, and members by value list', () => {
    expect(patch(alice, { op: 'remove', path: 'emails[type eq "work"]' }).emails).toEqual([]);
    expect(
      patch(alice, { op: 'remove', path: 'phoneNumbers[type eq "mobile"].value' }).phoneNumbers,
    ).toEqual([{ type: 'mobile' }]);
    const group = { members: [{ value: 'a' }, { value: 'b' }] };
    expect(
      patch(group, { op: 'Remove', path: 'members', value: [{ value: 'a' }] }).members,
    ).toEqual([{ value: 'b' }]);
    expect(patch(alice, { op: 'remove', path: 'name.givenName' })).toEqual(alice);
    expect(patch(alice, { op: 'remove', path: `${ENTERPRISE_USER_SCHEMA}:department` })).toEqual(
      alice,
    );
  });

  it('merges complex values, replaces with null as a removal, and accepts a URN key holding an object', () => {
    const named = patch(
      { name: { givenName: 'A', familyName: 'L' } },
      { op: 'replace', path: 'name', value: { givenName: 'B' } },
    );
    expect(named.name).toEqual({ givenName: 'B', familyName: 'L' });
    expect(patch(alice, { op: 'replace', path: 'userName', value: null })).not.toHaveProperty(
      'userName',
    );
    const extended = patch(alice, {
      op: 'add',
      value: { [ENTERPRISE_USER_SCHEMA]: { department: 'Sales', employeeNumber: '7' } },
    });
    expect(extended[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Sales', employeeNumber: '7' });
  });

  it('sets a filtered element’s fields from an object value, and keeps an equal id', () => {
    const result = patch(
      alice,
      { op: 'replace', path: 'emails[type eq "work"]', value: { value: 'w@example.com' } },
      { op: 'replace', value: { id: 'u1', schemas: ['x'], meta: {} } },
    );
    expect(result.emails).toEqual([{ value: 'w@example.com', type: 'work', primary: true }]);
  });

  it.each([
    [{ op: 'add', path: 'emails[type eq "work"]', value: 'x' }, 'SCIM_INVALID_VALUE'],
    [{ op: 'add', path: 'name.givenName', value: 'x' }, undefined],
    [{ op: 'add', path: 'emails.value', value: 'x' }, 'SCIM_INVALID_PATH'],
    [{ op: 'add', path: 'emails[type ne "work"]', value: {} }, 'SCIM_NO_TARGET'],
    [{ op: 'add', path: 'emails[not (type eq "work")].value', value: 'x' }, 'SCIM_NO_TARGET'],
  ])('answers %j with %s', (operation, code) => {
    const run = () => patch(alice, operation);
    if (code === undefined) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code }));
  });

  it('selects elements with ne, pr, or and not filters', () => {
    const resource = {
      emails: [
        { value: 'a@x', type: 'work' },
        { value: 'b@x', type: 'home' },
      ],
    };
    const set = (path: string) =>
      (patch(resource, { op: 'replace', path, value: 'z@x' }).emails as ScimObject[]).map(
        (e) => e.value,
      );
    expect(set('emails[type ne "work"].value')).toEqual(['a@x', 'z@x']);
    expect(set('emails[type pr].value')).toEqual(['z@x', 'z@x']);
    expect(set('emails[type eq "home" or type eq "work"].value')).toEqual(['z@x', 'z@x']);
    expect(set('emails[not (type eq "work")].value')).toEqual(['a@x', 'z@x']);
    expect(set('emails[primary eq true].value')).toEqual(['a@x', 'b@x', 'z@x']);
  });

  it('never throws anything but a 4xx SCIM error, whatever the body (never a 500)', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const operation = fc.record(
      {
        op: fc.oneof(fc.constantFrom('add', 'Replace', 'REMOVE', 'move'), json),
        path: fc.oneof(
          fc.constantFrom(
            'emails[type eq "work"].value',
            'name.givenName',
            'active',
            `${ENTERPRISE_USER_SCHEMA}:manager`,
            'emails[',
            'phoneNumbers[type eq "mobile"]',
            'id',
          ),
          fc.string(),
          json,
        ),
        value: json,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(json, fc.record({ Operations: fc.array(operation, { maxLength: 4 }) })),
        (body) => {
          try {
            patch(
              structuredClone(alice),
              ...((body as { Operations?: unknown[] })?.Operations ?? [body]),
            );
          } catch (error) {
            expect(isAdapterError(error)).toBe(true);
            const response = scimErrorResponse(error);
            expect(response.statusCode).toBeGreaterThanOrEqual(400);
            expect(response.statusCode).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('scim/filter', () => {
  it('turns any string into a lookup or invalidFilter, never another error', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          toUserQuery(parseFilter(text));
        } catch (error) {
          expect(error).toMatchObject({ code: 'SCIM_INVALID_FILTER', statusCode: 400 });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers the first supported equality, with every condition kept for checking', () => {
    expect(toUserQuery(parseFilter('title eq "x" and userName eq "a"'))).toEqual({
      query: { by: 'userName', value: 'a' },
      conditions: [
        { path: 'title', value: 'x' },
        { path: 'username', value: 'a' },
      ],
    });
  });
});

describe('scim/errors', () => {
  it('hides the detail of 5xx errors and never adds a scimType to them', () => {
    const response = scimErrorResponse(new Error('secret stack detail'));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '500',
      detail: 'Internal error',
      code: 'INTERNAL',
    });
  });
});
