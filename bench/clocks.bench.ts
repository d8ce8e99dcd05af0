/**
 * What the field clocks cost per change, on the warm path: read the user's clocks, judge every
 * field the change carries, encode the clocks for the write. Against the baseline of what the
 * per-connection guard it replaced did (parse one mark, compare, format one mark), in the same
 * process, with interleaved rounds. Run with `npm run bench:clocks`.
 */
import {
  type Clock,
  type ClockField,
  clockFieldsOf,
  connectionTag,
  encodeClocks,
  eventTag,
  planFieldWrite,
} from '../lib/ciam/field-clocks.ts';
import { parseAppliedMark, readClocks, type StaleGuard } from '../lib/ciam/stale-guard.ts';
import type { MemberMap, UpdateUserDraft } from '../lib/ciam/types.ts';

const INPUTS = 2000;
const WARMUP_ROUNDS = 3;
const ROUNDS = 11;

const guard: StaleGuard = {
  attribute: 'adapter_field_clocks',
  type: 'STRING',
  connection: connectionTag('clerk'),
  authorityOf: () => undefined,
  legacy: [],
};

// A Clerk snapshot against a user last written by a Clerk snapshot and an hmac partial change.
const draft: UpdateUserDraft = {
  UserStoreId: 'store',
  UserName: 'alice',
  Email: 'alice@example.com',
  PhoneNumber: '+6581234567',
  Nickname: 'Alice Anders',
  Birthdate: 642_902_400_000,
  CustomizationAttributes: [
    { Name: 'department', Value: 'R&D' },
    { Name: 'tier', Value: 'gold' },
  ],
};
const base = 1_767_225_600_000;
const stored = new Map<ClockField, Clock>();
const fields = clockFieldsOf(draft);
fields.forEach((field, index) => {
  stored.set(field, {
    at: base + (index % 2) * 1000,
    connection: index % 2 === 0 ? connectionTag('clerk') : connectionTag('hmac'),
    event: eventTag(`evt-${index % 2}`),
  });
});
const attributes: MemberMap[] = [
  { Name: 'tier', Value: 'silver' },
  { Name: 'adapter_field_clocks', Value: encodeClocks(stored) },
];
const legacyAttributes: MemberMap[] = [
  { Name: 'tier', Value: 'silver' },
  { Name: 'adapter_watermark_clerk', Value: `v1;${base};msg_2a9c7e` },
];
const changes = Array.from({ length: INPUTS }, (_, index) => ({
  eventId: `msg_${index.toString(36)}`,
  occurredAt: new Date(base + 5000 + index).toISOString(),
}));

let sink = 0;

const clocksPath = () => {
  for (const change of changes) {
    const clock: Clock = {
      at: Date.parse(change.occurredAt),
      connection: guard.connection,
      event: eventTag(change.eventId),
    };
    const current = readClocks(attributes, guard, clockFieldsOf(draft));
    const plan = planFieldWrite(draft, clock, current, guard.authorityOf);
    sink += encodeClocks(plan.clocks).length;
  }
};

const markPath = () => {
  for (const change of changes) {
    const mark = parseAppliedMark(
      legacyAttributes.find((item) => item.Name === 'adapter_watermark_clerk')?.Value,
    );
    const at = Date.parse(change.occurredAt);
    if (mark === undefined || at > mark.occurredAtMs) sink += `v1;${at};${change.eventId}`.length;
  }
};

const time = (run: () => void): number => {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1000 / INPUTS;
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

for (let round = 0; round < WARMUP_ROUNDS; round += 1) {
  time(clocksPath);
  time(markPath);
}
const clocks: number[] = [];
const marks: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  clocks.push(time(clocksPath));
  marks.push(time(markPath));
}
const clocksUs = median(clocks);
const marksUs = median(marks);
console.log(
  `fields per change: ${fields.length} (${draft.CustomizationAttributes?.length} custom)`,
);
console.log(`clocks attribute: ${attributes[1]?.Value.length} characters`);
console.log(`field clocks (read, judge, encode): ${clocksUs.toFixed(2)} µs per change`);
console.log(`per-connection mark (baseline):     ${marksUs.toFixed(2)} µs per change`);
console.log(
  `BENCH_CLOCKS us=${clocksUs.toFixed(2)} baseline_us=${marksUs.toFixed(2)} ratio=${(clocksUs / marksUs).toFixed(2)} sink=${sink > 0 ? 'ok' : 'none'}`,
);
