import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oktaSource } from '../../lib/sources/okta/index.ts';
import { standardWebhooksSource } from '../../lib/sources/standard-webhooks/index.ts';
import type { PreparedSource } from '../../lib/sources/types.ts';
import { workosSource } from '../../lib/sources/workos/index.ts';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

const NOW = Date.parse('2024-06-01T12:00:05.000Z');

/** The runtime's order: parse once, then toChanges with what parse returned. */
const run = async <P>(
  source: PreparedSource<P>,
  payload: unknown,
  headers: Record<string, string> = {},
  secrets: Record<string, string> = {},
  fetchImpl: typeof fetch = fetch,
) => {
  const request = inboundRequest('/webhooks/x', headers, '');
  return source.toChanges(
    source.parse(payload, request),
    request,
    sourceContext(NOW, secrets, { fetch: fetchImpl }),
  );
};

const directoryUser = {
  object: 'directory_user',
  id: 'directory_user_01A',
  email: 'jane@example.com',
  first_name: 'Jane',
  last_name: 'Doe',
  state: 'active',
  custom_attributes: {},
  created_at: '2024-01-10T09:00:00.000Z',
  updated_at: '2024-06-01T11:59:58.000Z',
};

const directoryGroup = {
  object: 'directory_group',
  id: 'directory_group_01C',
  idp_id: '00g1staffGroup',
  name: 'Staff',
  raw_attributes: {},
};

const workosEvent = (event: string, data: unknown) => ({
  id: `event_${event}`,
  object: 'event',
  event,
  created_at: '2024-06-01T12:00:00.000Z',
  data,
});

describe('WorkOS group events', () => {
  const source = workosSource.prepare(sourceConnection('workos', 'workos', {}));

  it.each([
    ['dsync.group.user_added', true],
    ['dsync.group.user_removed', false],
  ])('turns %s into a membership change timed by the event', async (type, member) => {
    const payload = workosEvent(type, {
      directory_id: 'directory_01',
      user: directoryUser,
      group: directoryGroup,
    });
    const outcome = await run(source, payload);
    expect(outcome).toEqual({
      changes: [
        {
          connectionId: 'workos',
          eventId: `event_${type}`,
          eventType: type,
          // The event's time, not the user's updated_at.
          occurredAt: '2024-06-01T12:00:00.000Z',
          subject: { externalId: 'directory_user_01A', email: 'jane@example.com' },
          attributes: {},
          raw: directoryUser,
          memberships: [{ group: { id: 'directory_group_01C', name: 'Staff' }, member }],
        },
      ],
      ignored: [],
    });
  });

  it('ignores a deleted group as naming no user: the event carries no member list', async () => {
    const outcome = await run(source, workosEvent('dsync.group.deleted', directoryGroup));
    expect(outcome).toEqual({
      changes: [],
      ignored: [
        {
          eventId: 'event_dsync.group.deleted',
          eventType: 'dsync.group.deleted',
          reason: 'no_user_in_event',
        },
      ],
    });
  });

  it.each([
    ['without a group', { user: directoryUser }, '/data'],
    [
      'with a group without an id',
      { user: directoryUser, group: { name: 'Staff' } },
      '/data/group',
    ],
    ['with a user without an id', { user: { email: 'x@y' }, group: directoryGroup }, '/data/user'],
  ])('refuses a membership event %s', async (_label, data, path) => {
    await expect(run(source, workosEvent('dsync.group.user_added', data))).rejects.toMatchObject({
      code: 'PAYLOAD_INVALID',
      details: expect.arrayContaining([
        expect.objectContaining({ path: expect.stringContaining(path) }),
      ]),
    });
  });

  it('leaves membership events to a connection whose event types leave them out', async () => {
    const narrow = workosSource.prepare(
      sourceConnection('workos', 'workos', { eventTypes: ['dsync.user.updated'] }),
    );
    const outcome = await run(
      narrow,
      workosEvent('dsync.group.user_added', { user: directoryUser, group: directoryGroup }),
    );
    expect(outcome.ignored).toEqual([
      expect.objectContaining({ reason: 'event_type_not_handled' }),
    ]);
  });
});

const clerkMembership = (type: string, organization: Record<string, unknown>) => ({
  object: 'event',
  type,
  timestamp: 1716883200,
  data: {
    object: 'organization_membership',
    id: 'orgmem_1',
    role: 'org:member',
    permissions: [],
    public_metadata: {},
    created_at: 1716000000000,
    updated_at: 1716000000000,
    organization: { object: 'organization', id: 'org_1', slug: 'acme', ...organization },
    public_user_data: { user_id: 'user_2h8op', identifier: 'jane@example.com', first_name: 'Jane' },
  },
});

describe('Clerk organization membership events', () => {
  const source = standardWebhooksSource.prepare(sourceConnection('clerk', 'standard-webhooks', {}));
  const headers = { 'svix-id': 'msg_org', 'svix-timestamp': '1716883201', 'svix-signature': 'x' };

  it.each([
    ['organizationMembership.created', true],
    ['organizationMembership.deleted', false],
  ])('turns %s into a membership of the organization', async (type, member) => {
    const payload = clerkMembership(type, { name: 'Acme Corp' });
    const outcome = await run(source, payload, headers);
    expect(outcome).toEqual({
      changes: [
        {
          connectionId: 'clerk',
          eventId: 'msg_org',
          eventType: type,
          // The envelope's timestamp, in seconds here.
          occurredAt: '2024-05-28T08:00:00.000Z',
          subject: { externalId: 'user_2h8op' },
          attributes: {},
          raw: payload.data,
          memberships: [{ group: { id: 'org_1', name: 'Acme Corp' }, member }],
        },
      ],
      ignored: [],
    });
  });

  it('reads a millisecond envelope timestamp as such', async () => {
    const payload = {
      ...clerkMembership('organizationMembership.created', {}),
      timestamp: 1716883200123,
    };
    const [change] = (await run(source, payload, headers)).changes;
    expect(change?.occurredAt).toBe('2024-05-28T08:00:00.123Z');
    // No organization name: the group is named by id only.
    expect(change?.memberships).toEqual([{ group: { id: 'org_1' }, member: true }]);
  });

  it('refuses a membership without the user it names', async () => {
    const payload = clerkMembership('organizationMembership.created', { name: 'Acme' });
    const broken = { ...payload, data: { ...payload.data, public_user_data: {} } };
    await expect(run(source, broken, headers)).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
  });

  it('does not handle role changes (organizationMembership.updated) by default', async () => {
    const outcome = await run(
      source,
      clerkMembership('organizationMembership.updated', { name: 'Acme' }),
      headers,
    );
    expect(outcome.ignored).toEqual([
      expect.objectContaining({ reason: 'event_type_not_handled' }),
    ]);
  });
});

describe('Okta group membership events', () => {
  let okta: FakeOkta;
  const API_TOKEN = '00oktaToken';

  beforeAll(async () => {
    okta = await startFakeOkta({
      apiToken: API_TOKEN,
      users: [oktaUser('00u1jane', { login: 'jane@example.com', email: 'jane@example.com' })],
    });
  });

  afterAll(async () => {
    await okta.close();
  });

  const prepare = () =>
    oktaSource.prepare({
      ...sourceConnection('okta', 'okta', { orgUrl: okta.orgUrl }),
      secrets: { signing: [{ name: 'hook' }], apiToken: { name: 'okta-api' } },
    });

  const membershipEvent = (uuid: string, eventType: string, target: unknown) => ({
    uuid,
    published: '2024-06-01T12:00:00.512Z',
    eventType,
    legacyEventType: 'core.user_group_member.user_add',
    displayMessage: 'Add user to group membership',
    outcome: { result: 'SUCCESS', reason: null },
    target,
  });

  const hook = (events: unknown[]) => ({
    eventType: 'com.okta.event_hook',
    eventId: 'delivery-1',
    eventTime: '2024-06-01T12:00:02.000Z',
    data: { events },
  });

  const targets = [
    { id: '00u1jane', type: 'User', alternateId: 'jane@example.com', displayName: 'Jane Doe' },
    { id: '00g1staff', type: 'UserGroup', alternateId: 'unknown', displayName: 'Staff' },
  ];

  it('turns add and remove into membership changes, finding targets by type', async () => {
    const outcome = await run(
      prepare(),
      hook([
        membershipEvent('e-add', 'group.user_membership.add', targets),
        membershipEvent('e-remove', 'group.user_membership.remove', [...targets].reverse()),
      ]),
      {},
      { hook: 'secret', 'okta-api': API_TOKEN },
    );
    expect(outcome.ignored).toEqual([]);
    expect(outcome.changes).toEqual(
      [
        ['e-add', 'group.user_membership.add', true],
        ['e-remove', 'group.user_membership.remove', false],
      ].map(([eventId, eventType, member]) => ({
        connectionId: 'okta',
        eventId,
        eventType,
        occurredAt: '2024-06-01T12:00:00.512Z',
        subject: {
          externalId: '00u1jane',
          email: 'jane@example.com',
          userName: 'jane@example.com',
        },
        // The profile names the user; a membership event sets no attribute.
        attributes: {},
        raw: expect.objectContaining({ id: '00u1jane' }),
        memberships: [{ group: { id: '00g1staff', name: 'Staff' }, member }],
      })),
    );
  });

  it('ignores preview deliveries without targets, and events without a group, without calling Okta', async () => {
    const requestsBefore = okta.requests.length;
    const outcome = await run(
      prepare(),
      hook([
        membershipEvent('e-none', 'group.user_membership.add', null),
        membershipEvent('e-nogroup', 'group.user_membership.remove', [targets[0]]),
      ]),
      {},
      { hook: 'secret', 'okta-api': API_TOKEN },
    );
    expect(outcome).toEqual({
      changes: [],
      ignored: [
        { eventId: 'e-none', eventType: 'group.user_membership.add', reason: 'no_user_in_event' },
        {
          eventId: 'e-nogroup',
          eventType: 'group.user_membership.remove',
          reason: 'group_not_mapped',
        },
      ],
    });
    expect(okta.requests.length).toBe(requestsBefore);
  });

  it('refuses a UserGroup target without an id', async () => {
    await expect(
      run(
        prepare(),
        hook([
          membershipEvent('e-bad', 'group.user_membership.add', [
            targets[0],
            { type: 'UserGroup', displayName: 'Staff' },
          ]),
        ]),
      ),
    ).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
  });
});
