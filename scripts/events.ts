// `npm run events [-- --at <epoch ms | ISO time>] [--out <dir>]`: the sample Lambda events, signed
// at the current time (or --at), for `serverless invoke local` (Clerk and WorkOS sign a timestamp
// and allow 5 and 3 minutes, so the committed samples are refused as stale). They go to
// .tmp/events/, which git ignores: the committed events/ are fixtures the tests read, and
// following the local steps must leave the working tree clean. Bodies and event ids stay as
// committed; local/sample-events.ts says which files are written.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAt, writeSampleEvents } from '../local/sample-events.ts';

/** Where `npm run events` writes unless told otherwise; covered by .gitignore's `.tmp/`. */
export const SIGNED_EVENTS_DIR = '.tmp/events';

/** Runs the command; returns the folder written to. */
export const runEventsCli = async (
  argv: readonly string[],
  log: (line: string) => void = console.log,
): Promise<string> => {
  const { values } = parseArgs({
    args: [...argv],
    options: { at: { type: 'string' }, out: { type: 'string', default: SIGNED_EVENTS_DIR } },
  });
  const at = parseAt(values.at);
  const names = await writeSampleEvents({ at, out: values.out });
  log(
    `${names.length} events in ${values.out}/, signed at ${new Date(at).toISOString()} (Clerk accepts them for 5 minutes, WorkOS for 3).`,
  );
  return values.out;
};

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await runEventsCli(process.argv.slice(2));
}
