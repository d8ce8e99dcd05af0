import { describe, expect, it } from 'vitest';
import { createProgress, type ProgressStream } from '../../scripts/progress.ts';

/** A stream that records what was written, with a clock the test moves. */
const fakeTerminal = (isTTY: boolean | undefined, columns?: number) => {
  const writes: string[] = [];
  const stream: ProgressStream = {
    ...(isTTY === undefined ? {} : { isTTY }),
    ...(columns === undefined ? {} : { columns }),
    write: (text: string) => {
      writes.push(text);
      return true;
    },
  };
  let ms = 0;
  return {
    stream,
    writes,
    now: () => ms,
    advance: (by: number) => {
      ms += by;
    },
    /** What a terminal would show: each write starts over at the line's start (\r, erase). */
    screen: () => (writes.at(-1) ?? '').replace('\r\u001b[K', ''),
  };
};

describe('progress line', () => {
  it.each([
    ['a pipe or file (isTTY false)', false],
    ['a stream without isTTY', undefined],
  ])('writes nothing to %s', (_, isTTY) => {
    const term = fakeTerminal(isTTY);
    const progress = createProgress({ stream: term.stream, now: term.now });
    expect(progress.enabled).toBe(false);
    progress.update('cold start: webhook', 1, 30);
    progress.update('warm CPU');
    progress.clear();
    expect(term.writes).toEqual([]);
  });

  it('on a terminal, rewrites one line with the label and count', () => {
    const term = fakeTerminal(true, 80);
    const progress = createProgress({ stream: term.stream, now: term.now });
    expect(progress.enabled).toBe(true);
    progress.update('cold start: webhook', 12, 30);
    expect(term.writes).toEqual(['\r\u001b[Kcold start: webhook 12/30']);
    progress.update('sending');
    expect(term.screen()).toBe('sending');
    term.advance(1000);
    progress.update('sending', 7);
    expect(term.screen()).toBe('sending 7');
    // Never a newline: the line is rewritten in place.
    expect(term.writes.join('')).not.toContain('\n');
  });

  it('shows a new label at once, but counts of one label at most every interval', () => {
    const term = fakeTerminal(true, 80);
    const progress = createProgress({ stream: term.stream, now: term.now, intervalMs: 100 });
    progress.update('requests', 1, 10);
    term.advance(30);
    progress.update('requests', 2, 10);
    expect(term.screen()).toBe('requests 1/10');
    term.advance(70);
    progress.update('requests', 3, 10);
    expect(term.screen()).toBe('requests 3/10');
    term.advance(1);
    progress.update('other phase');
    expect(term.screen()).toBe('other phase');
    term.advance(1);
    progress.update('requests', 4, 10);
    expect(term.screen()).toBe('requests 4/10');
    term.advance(1);
    // The last count always shows, so the line never ends on a stale figure.
    progress.update('requests', 10, 10);
    expect(term.screen()).toBe('requests 10/10');
    expect(term.writes).toHaveLength(5);
  });

  it('does not rewrite the same text', () => {
    const term = fakeTerminal(true, 80);
    const progress = createProgress({ stream: term.stream, now: term.now });
    progress.update('draining');
    term.advance(500);
    progress.update('draining');
    expect(term.writes).toHaveLength(1);
  });

  it('cuts the line to the terminal width, so it never wraps', () => {
    const term = fakeTerminal(true, 20);
    const progress = createProgress({ stream: term.stream, now: term.now });
    progress.update('warm CPU/webhook, adapter, loopback HTTP', 1999, 2200);
    expect(term.screen()).toBe('warm CPU/webhook, a');
    expect(term.screen()).toHaveLength(19);
  });

  it.each([
    ['does not say', undefined],
    ['says 0 (a pseudo-terminal without a size)', 0],
  ])('uses 80 columns when the terminal %s', (_, columns) => {
    const term = fakeTerminal(true, columns);
    const progress = createProgress({ stream: term.stream, now: term.now });
    progress.update('x'.repeat(200));
    expect(term.screen()).toBe('x'.repeat(79));
  });

  it('clear erases the line once, and the next update shows again', () => {
    const term = fakeTerminal(true, 80);
    const progress = createProgress({ stream: term.stream, now: term.now });
    progress.clear();
    expect(term.writes).toEqual([]);
    progress.update('soak: sending', 5, 10);
    progress.clear();
    progress.clear();
    expect(term.writes).toEqual(['\r\u001b[Ksoak: sending 5/10', '\r\u001b[K']);
    progress.update('soak: sending', 5, 10);
    expect(term.writes).toHaveLength(3);
    expect(term.screen()).toBe('soak: sending 5/10');
  });
});
