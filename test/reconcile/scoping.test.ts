import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Seed } from '../../emulator/server.ts';
import { connectionTag, encodeClocks } from '../../lib/ciam/field-clocks.ts';
import type { FilterNode } from '../../lib/filter/index.ts';
import { userGroupId } from '../../lib/queue/envelope.ts';
import type { OutgoingMessage, QueuePort } from '../../lib/queue/types.ts';
import { type ReconcileConnection, runReconcile } from '../../lib/reconcile/run.ts';
import { describePlan, summaryLine } from '../../lib/reconcile/runner.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import type { SourceUser, SourceUserLister } from '../../lib/source-apis/types.ts';
import {
  createMemoryLister,
  type ReconcileQueue,
  sourceUser,
  startReconcileQueue,
} from '../../local/reconcile.ts';
import { useEmulator } from '../helpers/emulator.ts';

// A reconciliation is scoped like the connection's webhooks: its CIAM tenant, its filter; and it
// treats the source's switched-off users and repeated listings as the source means them.

const T0 = '2025-06-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-02-01T00:00:00.000Z';

/** Clocks naming `connection`: the adapter wrote the user for it, so it is linked. */
const linkedTo = (connection: string) => [
  {
    Name: 'adapter_field_clocks',
    Value: encodeClocks(
      new Map([
        [
          'Nickname',
          { at: Date.parse(T0), connection: connectionTag(connection), event: 'AAAAAAAA' },
        ],
      ]),
    ),
  },
];

const seed: Seed = {
  credentials: [
    { SecretId: 'AKIDlocaldemo', SecretKey: 'localdemosecret', TenantId: 'local-tenant' },
    { SecretId: 'AKIDacmedemo', SecretKey: 'acmedemosecret', TenantId: 'acme-tenant' },
  ],
  userStores: [
    {
      UserStoreId: 'local-store',
      TenantId: 'local-tenant',
      Users: [
        { UserId: 'user-1', Email: 'alice@keep.example', IndexedAttribute1: 'ext_1' },
        { UserId: 'user-2', Email: 'bob@keep.example', IndexedAttribute1: 'ext_2' },
        // Written for `clerk` once, then left out by its filter: no orphan of it.
        {
          UserId: 'user-3',
          Email: 'carol@elsewhere.example',
          IndexedAttribute1: 'ext_3',
          CustomAttributes: linkedTo('clerk'),
        },
      ],
    },
    {
      UserStoreId: 'acme-store',
      TenantId: 'acme-tenant',
      Users: [
        { UserId: 'acme-user-1', Email: 'dana@acme.example', IndexedAttribute1: 'ext-dana' },
        { UserId: 'acme-user-2', Email: 'erik@acme.example', IndexedAttribute1: 'ext-erik' },
      ],
    },
  ],
};

describe('reconciliation scoping', () => {
  const emulator = useEmulator({ seed, rateLimit: 1000 }, { resetBeforeEach: true });
  let runtime: Runtime;
  let queue: ReconcileQueue;
  const env = () => ({
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator().url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000',
  });
  beforeEach(() => {
    const logger = new Logger({ logLevel: 'SILENT' });
    runtime = createRuntime(env(), { recordOutcome: () => {}, logger });
    queue = startReconcileQueue({ env: env(), overrides: { logger }, ratePerSecond: 1000 });
  });
  afterEach(async () => {
    await queue.stop();
  });

  /** The queue, recording every message's FIFO group. */
  const recording = (groups: string[]): QueuePort => {
    const note = (messages: readonly OutgoingMessage[]) => {
      groups.push(...messages.map((message) => message.groupId));
    };
    return {
      send: (message, options) => {
        note([message]);
        return queue.queue.send(message, options);
      },
      sendBatch: (messages, options) => {
        note(messages);
        return queue.queue.sendBatch(messages, options);
      },
      changeVisibility: (handle, seconds) => queue.queue.changeVisibility(handle, seconds),
    };
  };

  const setUp = (
    connectionId: string,
    lister: SourceUserLister,
    extra: Record<string, unknown> = {},
    groups: string[] = [],
  ) => {
    const deps = { ...reconcileDeps(runtime, { lister, recordDrift: () => {} }) };
    const found = deps.connection(connectionId);
    const connection: ReconcileConnection = {
      ...found,
      target: { ...found.target, ...extra },
    };
    return { deps: { ...deps, queue: recording(groups) }, connection };
  };
  const store = (storeId: string, userId: string) => emulator().store.getUser(storeId, userId);

  it("sends every CIAM call of a connection on tenant acme to acme's account and user store", async () => {
    const lister = createMemoryLister([
      sourceUser('acme-hmac', 'ext-dana', T1, { email: 'dana@acme.example', nickname: 'Dana' }),
      {
        ...sourceUser('acme-hmac', 'ext-erik', T1, { email: 'erik.new@acme.example' }),
        deprovisioned: true,
      },
      // Switched off before CIAM ever had it: never created.
      {
        ...sourceUser('acme-hmac', 'ext-gone', T1, { email: 'gone@acme.example' }),
        deprovisioned: true,
      },
      sourceUser('acme-hmac', 'ext-fred', T1, {
        email: 'fred@acme.example',
        userName: 'fred',
        phone: '+6580000009',
      }),
    ]);
    const groups: string[] = [];
    const { deps, connection } = setUp(
      'acme-hmac',
      lister,
      { reconcile: { api: { kind: 'clerk' }, createUnmatched: true, orphans: 'freeze' } },
      groups,
    );
    const outcome = await runReconcile(deps, connection, { apply: true, yes: true });
    await queue.drain();

    expect(summaryLine(outcome.plan, outcome.applied)).toBe(
      'RECONCILE connection=acme-hmac source_users=4 matched=1 unmatched=1 orphaned=1 changes=1 applied=3',
    );
    expect(outcome.plan.counts.deprovisioned).toBe(2);
    expect(describePlan(outcome.plan)).toContain(
      'orphaned acme-user-2  (deprovisioned at the source: ext-erik)',
    );
    expect(outcome.report).toMatchObject({ queued: 1, created: 1, frozen: 1, failures: [] });

    const calls = emulator().calls;
    const actions = new Set(calls.map((call) => call.action));
    for (const action of ['DescribeUser', 'UpdateUser', 'CreateUser', 'UpdateUserStatus']) {
      expect(actions).toContain(action);
    }
    expect(new Set(calls.map((call) => call.secretId))).toEqual(new Set(['AKIDacmedemo']));
    expect(new Set(calls.map((call) => call.userStoreId))).toEqual(new Set(['acme-store']));
    // The queued change's FIFO group names the tenant, as a webhook's would.
    expect(groups).toEqual([userGroupId('acme-store', 'acme-user-1', 'acme')]);
    expect(groups[0]).toBe('acme:acme-store:acme-user-1');

    expect(store('acme-store', 'acme-user-1')?.Nickname).toBe('Dana');
    // Deprovisioned: frozen (orphans: 'freeze'), its attributes left as they were.
    expect(store('acme-store', 'acme-user-2')).toMatchObject({
      Status: 'FREEZE',
      Email: 'erik@acme.example',
    });
    expect(
      emulator()
        .store.listUsers('acme-store')
        .map((user) => user.IndexedAttribute1),
    ).not.toContain('ext-gone');
  });

  it('reports a deprovisioned user with the orphans and freezes nothing under orphans: report', async () => {
    const lister = createMemoryLister([
      {
        ...sourceUser('acme-hmac', 'ext-erik', T1, { email: 'erik.new@acme.example' }),
        deprovisioned: true,
      },
    ]);
    const { deps, connection } = setUp('acme-hmac', lister, {
      reconcile: { api: { kind: 'clerk' }, orphans: 'report' },
    });
    const outcome = await runReconcile(deps, connection, { apply: true, yes: true });
    await queue.drain();
    expect(summaryLine(outcome.plan, outcome.applied)).toBe(
      'RECONCILE connection=acme-hmac source_users=1 matched=0 unmatched=0 orphaned=1 changes=0 applied=0',
    );
    expect(emulator().calls.map((call) => call.action)).toEqual(['DescribeUser']);
    expect(store('acme-store', 'acme-user-2')?.Status).not.toBe('FREEZE');
  });

  const filters: [string, FilterNode][] = [
    [
      'on the change, before mapping',
      { path: 'change.subject.email', op: 'endsWith', value: '@keep.example' },
    ],
    ['on the mapped update', { path: 'update.Email', op: 'endsWith', value: '@keep.example' }],
  ];
  it.each(filters)(
    "applies the connection's filter %s: a user outside is not planned, nor its CIAM user an orphan",
    async (_name, filter) => {
      const lister = createMemoryLister([
        sourceUser('clerk', 'ext_1', T1, { email: 'alice@keep.example', nickname: 'Alice' }),
        sourceUser('clerk', 'ext_2', T1, { email: 'bob@keep.example' }),
        // Outside the filter, with a change that would otherwise be planned.
        sourceUser('clerk', 'ext_3', T1, { email: 'carol@elsewhere.example', nickname: 'Carol' }),
        // Outside, and unmatched: not reported as unmatched either.
        sourceUser('clerk', 'ext_4', T1, { email: 'dave@elsewhere.example' }),
      ]);
      const { deps, connection } = setUp('clerk', lister, {
        filter,
        reconcile: { api: { kind: 'clerk' }, orphans: 'freeze', createUnmatched: true },
      });
      const outcome = await runReconcile(deps, connection, { apply: true, yes: true });
      await queue.drain();
      expect(summaryLine(outcome.plan, outcome.applied)).toBe(
        'RECONCILE connection=clerk source_users=4 matched=2 unmatched=0 orphaned=0 changes=1 applied=1',
      );
      expect(outcome.plan.counts.filtered).toBe(2);
      expect(store('local-store', 'user-1')?.Nickname).toBe('Alice');
      expect(store('local-store', 'user-3')?.Nickname).toBeUndefined();
      expect(store('local-store', 'user-3')?.Status).not.toBe('FREEZE');
      expect(emulator().calls.filter((call) => call.action === 'CreateUser')).toHaveLength(0);
    },
  );

  it('counts a user listed twice once: an identical copy is skipped, a newer one replaces it', async () => {
    const users: SourceUser[] = [
      sourceUser('clerk', 'ext_1', T1, { email: 'alice@keep.example', nickname: 'Alice' }),
      sourceUser('clerk', 'ext_2', T1, { email: 'bob@keep.example', nickname: 'Bob' }),
      sourceUser('clerk', 'ext_9', T1, { email: 'nobody@keep.example' }),
      // As Auth0's export lists again what paging listed: the same snapshots.
      sourceUser('clerk', 'ext_1', T1, { email: 'alice@keep.example', nickname: 'Alice' }),
      sourceUser('clerk', 'ext_9', T1, { email: 'nobody@keep.example' }),
      // Changed since: the newer copy wins; so does one that now has nothing to change.
      sourceUser('clerk', 'ext_2', T2, { email: 'bob@keep.example', nickname: 'Robert' }),
    ];
    const { deps, connection } = setUp('clerk', createMemoryLister(users, { pageSize: 2 }));
    const { plan } = await runReconcile(deps, connection, { apply: false });
    expect(summaryLine(plan, 0)).toBe(
      'RECONCILE connection=clerk source_users=3 matched=2 unmatched=1 orphaned=1 changes=2 applied=0',
    );
    expect(plan.counts.duplicates).toBe(3);
    const changes = plan.entries.flatMap((entry) => (entry.kind === 'change' ? [entry] : []));
    expect(changes.map((entry) => [entry.externalId, entry.change.occurredAt])).toEqual([
      ['ext_1', T1],
      ['ext_2', T2],
    ]);
    expect(plan.entries.filter((entry) => entry.kind === 'unmatched')).toHaveLength(1);
  });
});
