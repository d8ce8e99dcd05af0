import { describe, expect, it } from 'vitest';
import {
  benchResult,
  field,
  type Measurements,
  reportLines,
  type Summary,
  type SyncSummary,
} from '../../bench/report.ts';

const summary = (p50Us: number, p99Us: number, rssMb: number, outcome: string): Summary => ({
  n: 2000,
  p50Us,
  p99Us,
  rssMb,
  statuses: { [outcome.split(' ')[0] ?? '']: 2000 },
  outcomes: { [outcome]: 2000 },
});

const syncOf = (calls: number, rawP50Ms: number, rawP99Ms: number, outcome: string) =>
  ({
    n: 200,
    ciamCallsPerRequest: { min: calls, median: calls, max: calls },
    rawP50Ms,
    rawP99Ms,
    ownP50Ms: rawP50Ms - 50 * calls,
    ownP99Ms: rawP99Ms - 50 * calls,
    outcomes: { [outcome]: 200 },
  }) satisfies SyncSummary;

const measured = (overrides: Partial<Measurements> = {}): Measurements => ({
  machine: { nproc: 2, cpu: 'Test CPU', node: 'v20.0.0' },
  init: {
    runs: 15,
    adapter: { cpuMs: 30.04, wallMs: 40 },
    baseline: { cpuMs: 150.2, wallMs: 160 },
  },
  size: {
    adapter: { bundleBytes: 400_000, zipBytes: 100_000 },
    baseline: { bundleBytes: 1_200_000, zipBytes: 300_000 },
  },
  warmN: 2000,
  warm: {
    adapter: {
      inproc: summary(1000, 6000, 80, '200 applied'),
      http: summary(1200, 6600, 70, '200 applied'),
    },
    baseline: { inproc: summary(800, 5000, 100, '204'), http: summary(900, 6000, 90, '204') },
  },
  unguarded: {
    inproc: summary(700, 5100, 81, '200 applied'),
    http: summary(880, 6300, 71, '200 applied'),
  },
  sources: {
    workos: {
      inproc: summary(1040, 7000, 82, '200 applied'),
      http: summary(1260, 6500, 72, '200 applied'),
    },
    hmac: {
      inproc: summary(840, 7200, 83, '200 applied'),
      http: summary(930, 6000, 73, '200 applied'),
    },
  },
  sync: {
    injectedLatencyMsPerCall: 50,
    adapter: syncOf(2, 108.5, 113.79, '200 applied'),
    baseline: syncOf(1, 55.29, 64.8, '204'),
  },
  signLine: 'ratio:      3.34x',
  queueLine: 'BENCH_QUEUE update_rate=18.80/s ciam_limit=20/s ratio=0.940 rate_limited=0',
  secretsServed: {
    adapter: { secretsManager: 0, extension: 22, extensionRefused: 1 },
    baseline: { secretsManager: 3, extension: 0, extensionRefused: 0 },
  },
  ...overrides,
});

/** The table's cells of the row whose first cell starts with `figure`. */
const row = (lines: readonly string[], figure: string): string[] => {
  const line = lines.find((l) => l.startsWith(`| ${figure}`));
  if (line === undefined) throw new Error(`no row ${figure}`);
  return line
    .slice(2, -2)
    .split(' | ')
    .map((cell) => cell.trim());
};

describe('bench report', () => {
  it('reads numbers out of the other benchmarks’ lines', () => {
    expect(field('ratio:      3.34x', 'ratio')).toBe(3.34);
    expect(field('BENCH_QUEUE update_rate=18.80/s ciam_limit=20/s', 'update_rate')).toBe(18.8);
    expect(field('', 'ratio')).toBeNull();
  });

  it('gives every ratio as adapter / baseline, to 3 decimals', () => {
    const result = benchResult(measured());
    expect(result.init).toMatchObject({ cpuRatio: 0.2, wallRatio: 0.25 });
    expect(result.size).toMatchObject({ bundleRatio: 0.333, zipRatio: 0.333 });
    expect(result.warm).toMatchObject({
      n: 2000,
      inprocP50Ratio: 1.25,
      httpP50Ratio: 1.333,
      httpP99Ratio: 1.1,
    });
    expect(result.warm.clerkUnguarded).toMatchObject({ inprocP50Ratio: 0.875 });
    // The other sources compare with the baseline's Clerk, which is all the baseline handles.
    expect(result.warm.sources.workos).toMatchObject({
      inprocP50RatioVsBaselineClerk: 1.3,
      inprocP99RatioVsBaselineClerk: 1.4,
      httpP50RatioVsBaselineClerk: 1.4,
      httpP99RatioVsBaselineClerk: 1.083,
    });
    expect(result.sync).toMatchObject({ source: 'clerk', ownP50Ratio: 1.607 });
    expect(result.rssMbAfterWebhooks).toEqual({ adapter: 80, baseline: 100 });
    expect(result.sign.ratio).toBe(3.34);
    expect(result.queue.updatesPerSecond).toBe(18.8);
  });

  it('prints an aligned Markdown table with the figures and ratios', () => {
    const lines = reportLines(benchResult(measured()), 200);
    const table = lines.filter((l) => l.startsWith('|'));
    expect(table[0]).toMatch(/^\| figure +\| adapter \| baseline \| ratio \|$/);
    expect(table[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \|$/);
    // Every row as wide as the header: columns padded to their widest cell.
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    expect(row(lines, 'init CPU above bare Node')).toEqual([
      'init CPU above bare Node (ms, median)',
      '30.0',
      '150.2',
      '0.20',
    ]);
    expect(row(lines, 'bundle (bytes)')).toEqual(['bundle (bytes)', '400000', '1200000', '0.33']);
    expect(row(lines, 'warm CPU/webhook in process p99 (ms), clerk')).toEqual([
      'warm CPU/webhook in process p99 (ms), clerk',
      '6.000',
      '5.000',
      '1.20',
    ]);
    expect(
      row(lines, 'warm CPU/webhook loopback HTTP p50 (ms), clerk, guard off (1 CIAM call)'),
    ).toEqual([
      'warm CPU/webhook loopback HTTP p50 (ms), clerk, guard off (1 CIAM call)',
      '0.880',
      '0.900',
      '0.98',
    ]);
    expect(row(lines, 'sync own latency p50')).toEqual([
      'sync own latency p50 (ms, end-to-end − 50 ms × calls)',
      '8.50',
      '5.29',
      '1.61',
    ]);
    expect(row(lines, 'sync, CIAM +50 ms/call: CIAM calls per request')).toEqual([
      'sync, CIAM +50 ms/call: CIAM calls per request (median)',
      '2',
      '1',
      '',
    ]);
    // The warm-up is not in the result; the RSS row counts it with the measured webhooks.
    expect(row(lines, 'RSS after')).toEqual([
      'RSS after 2200 webhooks (MB)',
      '80.0',
      '100.0',
      '0.80',
    ]);
    expect(row(lines, 'signatures/s')).toEqual([
      'signatures/s vs official SDK Sign.sign3',
      '',
      '',
      '3.34',
    ]);
    expect(row(lines, 'queue UpdateUser rate')).toEqual([
      'queue UpdateUser rate vs CIAM 20/s',
      '18.8/s',
      '20/s',
      '0.940',
    ]);
  });

  it('has four rows per other source, in the order measured', () => {
    const lines = reportLines(benchResult(measured()), 200);
    const sourceRows = lines.filter((l) => l.includes("vs baseline's clerk"));
    expect(sourceRows).toHaveLength(8);
    expect(sourceRows[0]).toContain('in process p50 (ms), workos');
    expect(sourceRows[4]).toContain('in process p50 (ms), hmac');
    expect(row(lines, 'warm CPU/webhook loopback HTTP p99 (ms), hmac')).toEqual([
      "warm CPU/webhook loopback HTTP p99 (ms), hmac vs baseline's clerk",
      '6.000',
      '6.000',
      '1.00',
    ]);
  });

  it('says n/a for the signer and queue when they did not run (BENCH_SKIP_QUEUE)', () => {
    const lines = reportLines(benchResult(measured({ signLine: '', queueLine: '' })), 200);
    expect(row(lines, 'signatures/s').at(-1)).toBe('n/a');
    expect(row(lines, 'queue UpdateUser rate')).toEqual([
      'queue UpdateUser rate vs CIAM 20/s',
      'n/a',
      '20/s',
      'n/a',
    ]);
  });

  it('ends with outcomes, secrets served, the machine and the BENCH json', () => {
    const result = benchResult(measured());
    const lines = reportLines(result, 200);
    expect(lines.slice(-6, -1)).toEqual([
      'outcomes (loopback HTTP): adapter {"200 applied":2000} baseline {"204":2000} clerk guard off {"200 applied":2000}',
      'outcomes per source (adapter, in process / loopback HTTP): workos {"200 applied":2000} / {"200 applied":2000} hmac {"200 applied":2000} / {"200 applied":2000}',
      'sync outcomes: adapter {"200 applied":200} (2-2 CIAM calls/request) baseline {"204":200} (1-1)',
      'secrets served: adapter: Secrets Manager 0, extension 22 (1 refused); baseline: Secrets Manager 3, extension 0 (0 refused)',
      'machine: 2 x Test CPU, Node v20.0.0',
    ]);
    const last = lines.at(-1) ?? '';
    expect(last.startsWith('BENCH {')).toBe(true);
    expect(JSON.parse(last.slice('BENCH '.length))).toEqual(result);
  });

  it('renders a saved BENCH line back into the same report', () => {
    const lines = reportLines(benchResult(measured()), 200);
    const saved = JSON.parse((lines.at(-1) ?? '').slice('BENCH '.length));
    expect(reportLines(saved, 200)).toEqual(lines);
  });
});
