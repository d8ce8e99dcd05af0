// `npm run soak`: 1,000 changes for 100 users from two queued connections (Clerk snapshots and
// partial hmac changes, on the same users) through producer → local FIFO queue → consumer → CIAM
// emulator, with 30 % transient and 2 % permanent CIAM faults (local/soak.ts says how). The last
// line sums it up, field by field; the exit code is non-zero unless no field was lost or written
// out of order and every dead letter carries its reason. SOAK_SEED replays a run; SOAK_DEBUG=1 explains misses.
// On a terminal, stderr shows the phase (scripts/progress.ts).
import { runSoak, SOAK_DEFAULTS, soakPassed } from '../local/soak.ts';
import { createProgress } from './progress.ts';

const progress = createProgress();
const report = await runSoak({
  ...SOAK_DEFAULTS,
  seed: Number(process.env.SOAK_SEED ?? SOAK_DEFAULTS.seed),
  debug: process.env.SOAK_DEBUG !== undefined && process.env.SOAK_DEBUG !== '',
  log: (line) => {
    progress.clear();
    console.log(line);
  },
  ...(progress.enabled ? { progress: progress.update } : {}),
});
progress.clear();
console.log(
  `sent=${report.sent} redelivered_late=${report.redeliveredLate} accepted=${report.accepted} refused=${report.refused} ciam_calls=${report.ciamCalls} faults_injected=${report.faultsInjected} dead_letters_without_reason=${report.deadLettersWithoutReason} users_on_wrong_final_state=${report.usersOnWrongFinalState} fields_on_wrong_final_state=${report.fieldsOnWrongFinalState} seconds=${report.seconds.toFixed(1)}`,
);
console.log(
  `SOAK applied=${report.applied} dlq=${report.dlq} fields=${report.fields} fields_applied=${report.fieldsApplied} partial=${report.partial} stale=${report.stale} duplicate=${report.duplicate} superseded=${report.superseded} writes=${report.writes} coalesced_writes=${report.coalescedWrites} lost=${report.lost} out_of_order=${report.outOfOrder} duplicates_applied_late=${report.duplicatesAppliedLate}`,
);
process.exit(soakPassed(report) ? 0 : 1);
