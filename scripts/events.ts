// `npm run events [-- --at <epoch ms | ISO time>] [--out <dir>]`: rewrites the sample Lambda
// events in events/ signed at the current time (or --at), so `serverless invoke local` and the
// handler see fresh deliveries instead of ones refused as stale (Clerk and WorkOS sign a
// timestamp and allow 5 minutes). Bodies and event ids stay as committed; see
// local/sample-events.ts for the files it writes.
import { parseArgs } from 'node:util';
import { parseAt, writeSampleEvents } from '../local/sample-events.ts';

const { values } = parseArgs({
  options: { at: { type: 'string' }, out: { type: 'string', default: 'events' } },
});
const at = parseAt(values.at);
const names = await writeSampleEvents({ at, out: values.out });
console.log(
  `${names.length} events in ${values.out}/, signed at ${new Date(at).toISOString()} (Clerk accepts them for 5 minutes, WorkOS for 3).`,
);
