// One updating status line for the long commands (`npm run bench`, `soak`, `fuzz`,
// `bench:queue`), e.g. `cold start: run 12/15`. It goes to stderr, and only when stderr is a
// terminal: piped or redirected (CI, tests, `> file`, a parent benchmark reading the output) it
// writes nothing at all, and stdout, whose lines the README and other scripts read, is never
// touched. No dependency, so the scripts and the measured code load nothing more for it.

/** The part of a stream this needs (process.stderr, or a fake in tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** The terminal's width; the line is cut to fit, since a wrapped line cannot be rewritten. */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** False when nothing is shown (not a terminal): callers may skip work done only for it. */
  readonly enabled: boolean;
  /**
   * Shows `label`, or `label done/total`. A new label shows at once; counts of the same label at
   * most every `intervalMs`, and always when done reaches total.
   */
  update(label: string, done?: number, total?: number): void;
  /** Takes the line away, e.g. before the command prints its results to the same terminal. */
  clear(): void;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Milliseconds, for the throttle only. */
  now?: () => number;
  intervalMs?: number;
}

// Carriage return to the line's start; ESC [ K erases what an earlier, longer text left there.
const ERASE_LINE = '\r\u001b[K';

const NO_PROGRESS: Progress = { enabled: false, update: () => {}, clear: () => {} };

export const createProgress = (options: ProgressOptions = {}): Progress => {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY !== true) return NO_PROGRESS;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 100;
  let shownLabel: string | undefined;
  let shownText: string | undefined;
  let shownAt = Number.NEGATIVE_INFINITY;
  return {
    enabled: true,
    update(label, done, total) {
      const count =
        done === undefined ? '' : total === undefined ? ` ${done}` : ` ${done}/${total}`;
      // A pseudo-terminal without a size says 0 columns.
      const width = stream.columns !== undefined && stream.columns > 1 ? stream.columns : 80;
      const text = `${label}${count}`.slice(0, width - 1);
      const at = now();
      const finished = done !== undefined && done === total;
      if (text === shownText) return;
      if (label === shownLabel && !finished && at - shownAt < intervalMs) return;
      stream.write(`${ERASE_LINE}${text}`);
      shownLabel = label;
      shownText = text;
      shownAt = at;
    },
    clear() {
      if (shownText === undefined) return;
      stream.write(ERASE_LINE);
      shownLabel = undefined;
      shownText = undefined;
      shownAt = Number.NEGATIVE_INFINITY;
    },
  };
};
