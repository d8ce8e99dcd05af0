import { describe, expect, it } from 'vitest';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { createGroupResolver } from '../../lib/ciam/groups.ts';
import type { Connection, GroupsConfig } from '../../lib/config/types.ts';
import type { Deliver } from '../../lib/delivery/delivery.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { workosSource } from '../../lib/sources/workos/index.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { membershipMapper } from '../../lib/webhook/groups.ts';
import { processWebhook } from '../../lib/webhook/process.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

const event = (id: string, event: string, group: Record<string, unknown>) => ({
  id,
  event,
  created_at: '2024-06-01T12:00:00.000Z',
  data: { user: { id: 'directory_user_1', email: 'jane@example.com' }, group },
});

describe('membership events: source groups to CIAM groups', () => {
  // The seed's local-store has group-staff ("Staff") and group-admins ("Admins").
  const emulator = useEmulator();

  const setUp = (groups?: GroupsConfig, withResolver = true) => {
    const connection: Connection = {
      ...sourceConnection('workos', 'workos', {}),
      userStoreId: EMULATOR_USER_STORE_ID,
      ...(groups === undefined ? {} : { groups }),
    };
    const resolver = createGroupResolver({
      ciam: createCiamClient(
        createTencentClient({
          fetch,
          now: Date.now,
          endpoint: emulator().url,
          credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
        }),
      ),
      now: Date.now,
    });
    const prepared = {
      connection,
      source: workosSource.prepare(connection),
      mapper: compileMapping(connection),
      memberships: membershipMapper(connection, withResolver ? resolver : undefined),
    };
    const delivered: Parameters<Deliver>[1][] = [];
    const deliver: Deliver = async (_connection, updates) => {
      delivered.push(updates);
      return {
        results: updates.map((update) => ({
          status: 'applied' as const,
          eventId: update.change.eventId,
          userId: 'u-1',
          requestId: 'r-1',
        })),
      };
    };
    const send = (payload: unknown) =>
      processWebhook(
        prepared,
        payload,
        inboundRequest('/webhooks/workos', {}, ''),
        sourceContext(Date.now(), {}),
        deliver,
      );
    return { send, delivered };
  };

  it('maps a source group to the CIAM group of the same name, with an empty draft', async () => {
    const { send, delivered } = setUp();
    const outcome = await send(
      event('e1', 'dsync.group.user_added', { id: 'directory_group_1', name: 'Staff' }),
    );
    expect(outcome.body).toMatchObject({ status: 'applied', eventId: 'e1' });
    expect(delivered).toEqual([
      [
        {
          change: expect.objectContaining({ eventId: 'e1' }),
          draft: { UserStoreId: EMULATOR_USER_STORE_ID },
          memberships: [{ groupId: 'group-staff', member: true }],
        },
      ],
    ]);
  });

  it('follows the explicit map, the source id before its name', async () => {
    const { send, delivered } = setUp({
      map: { directory_group_1: 'group-admins', Staff: 'group-staff' },
    });
    await send(event('e1', 'dsync.group.user_removed', { id: 'directory_group_1', name: 'Staff' }));
    await send(event('e2', 'dsync.group.user_added', { id: 'directory_group_2', name: 'Staff' }));
    expect(delivered.flat().map((update) => update.memberships)).toEqual([
      [{ groupId: 'group-admins', member: false }],
      [{ groupId: 'group-staff', member: true }],
    ]);
  });

  it('maps by the explicit map alone when there is no resolver', async () => {
    const { send, delivered } = setUp({ map: { Staff: 'group-staff' } }, false);
    await send(event('e1', 'dsync.group.user_added', { id: 'g1', name: 'Staff' }));
    const outcome = await send(event('e2', 'dsync.group.user_added', { id: 'g2', name: 'Admins' }));
    expect(delivered.flat().map((update) => update.memberships)).toEqual([
      [{ groupId: 'group-staff', member: true }],
    ]);
    expect(outcome.body).toMatchObject({ status: 'ignored', reason: 'group_not_mapped' });
  });

  it('ignores a group CIAM has no group for, by default, without delivering', async () => {
    const { send, delivered } = setUp();
    const outcome = await send(
      event('e1', 'dsync.group.user_added', { id: 'directory_group_9', name: 'Contractors' }),
    );
    expect(outcome).toMatchObject({
      statusCode: 200,
      body: {
        status: 'ignored',
        eventId: 'e1',
        eventType: 'dsync.group.user_added',
        reason: 'group_not_mapped',
      },
      counts: { ignored: 1 },
      eventIds: ['e1'],
    });
    expect(delivered).toEqual([]);
  });

  it('refuses a group mapped to nothing with 422 GROUP_NOT_MAPPED when set to refuse', async () => {
    const { send, delivered } = setUp({ unmapped: 'refuse' });
    await expect(
      send(event('e1', 'dsync.group.user_added', { id: 'directory_group_9', name: 'Contractors' })),
    ).rejects.toMatchObject({
      code: 'GROUP_NOT_MAPPED',
      statusCode: 422,
      details: { eventId: 'e1', group: { id: 'directory_group_9', name: 'Contractors' } },
    });
    expect(delivered).toEqual([]);
  });

  it('does not look a name up in another case: CIAM names are exact', async () => {
    const { send, delivered } = setUp();
    const outcome = await send(event('e1', 'dsync.group.user_added', { id: 'g', name: 'staff' }));
    expect(outcome.body).toMatchObject({ reason: 'group_not_mapped' });
    expect(delivered).toEqual([]);
  });
});
