// `npm run bench`'s report: what the measurements (bench/measure/) found, in, and the result
// (`BENCH {json}`, ratios against the baseline of the same run) and the printed text out. Pure:
// no clock, no I/O, so the text can be checked, and re-rendered from a saved `BENCH` line.

export type Kind = 'adapter' | 'baseline';

/** CPU and wall milliseconds of a fresh process's start (above bare Node, once summed up). */
export interface InitFigure {
  cpuMs: number;
  wallMs: number;
}

/** One warm run as bench/worker.mjs reports it. */
export interface Summary {
  n: number;
  p50Us: number;
  p99Us: number;
  rssMb: number;
  statuses: Record<string, number>;
  /** HTTP status and the answer's `status` field (applied, skipped, …), counted. */
  outcomes: Record<string, number>;
}

export interface WarmPair {
  inproc: Summary;
  http: Summary;
}

export interface SyncSummary {
  n: number;
  /** CIAM calls one request made (the emulator's count while it was in flight). */
  ciamCallsPerRequest: { min: number; median: number; max: number };
  rawP50Ms: number;
  rawP99Ms: number;
  /** End-to-end time minus the injected latency × that request's CIAM calls. */
  ownP50Ms: number;
  ownP99Ms: number;
  /** HTTP status and the answer's `status` field, counted. */
  outcomes: Record<string, number>;
}

export interface SecretsServed {
  /** GetSecretValue calls the fake Secrets Manager answered (the SDK path). */
  secretsManager: number;
  /** Secrets the fake extension handed out (200). */
  extension: number;
  /** Extension requests it refused (401, 400: wrong token, unknown secret, bad request). */
  extensionRefused: number;
}

export interface Sizes {
  bundleBytes: number;
  zipBytes: number;
}

/** Everything one run measured, before any ratio. */
export interface Measurements {
  machine: { nproc: number; cpu: string; node: string };
  init: { runs: number; adapter: InitFigure; baseline: InitFigure };
  size: Record<Kind, Sizes>;
  /** Measured webhooks per warm run (after the warm-up, which is not measured). */
  warmN: number;
  warm: Record<Kind, WarmPair>;
  /** Clerk with the stale-event guard off: one CIAM call per webhook, as the baseline. */
  unguarded: WarmPair;
  /** The adapter's other sources, in the order they are reported. */
  sources: Record<string, WarmPair>;
  sync: { injectedLatencyMsPerCall: number } & Record<Kind, SyncSummary>;
  /** The last lines of `npm run bench:sign` and `npm run bench:queue` ('' when not run). */
  signLine: string;
  queueLine: string;
  secretsServed: Record<Kind, SecretsServed>;
}

export const ratio = (a: number, b: number) => Number((a / b).toFixed(3));

/** A number after `name=` or `name:` in a benchmark's line, or null. */
export const field = (line: string, name: string) => {
  const m = new RegExp(`${name}[=:]\\s*([0-9.]+)`).exec(line);
  return m?.[1] === undefined ? null : Number(m[1]);
};

/** The `BENCH {json}` object: the measurements and their ratios to the baseline. */
export const benchResult = (m: Measurements) => {
  const { warm, unguarded } = m;
  return {
    machine: m.machine,
    init: {
      runs: m.init.runs,
      adapter: m.init.adapter,
      baseline: m.init.baseline,
      cpuRatio: ratio(m.init.adapter.cpuMs, m.init.baseline.cpuMs),
      wallRatio: ratio(m.init.adapter.wallMs, m.init.baseline.wallMs),
    },
    size: {
      adapter: { bundleBytes: m.size.adapter.bundleBytes, zipBytes: m.size.adapter.zipBytes },
      baseline: { bundleBytes: m.size.baseline.bundleBytes, zipBytes: m.size.baseline.zipBytes },
      bundleRatio: ratio(m.size.adapter.bundleBytes, m.size.baseline.bundleBytes),
      zipRatio: ratio(m.size.adapter.zipBytes, m.size.baseline.zipBytes),
    },
    warm: {
      n: m.warmN,
      adapter: warm.adapter,
      baseline: warm.baseline,
      inprocP50Ratio: ratio(warm.adapter.inproc.p50Us, warm.baseline.inproc.p50Us),
      httpP50Ratio: ratio(warm.adapter.http.p50Us, warm.baseline.http.p50Us),
      httpP99Ratio: ratio(warm.adapter.http.p99Us, warm.baseline.http.p99Us),
      /** Clerk with the stale-event guard off: one CIAM call per webhook, as the baseline. */
      clerkUnguarded: {
        adapter: unguarded,
        inprocP50Ratio: ratio(unguarded.inproc.p50Us, warm.baseline.inproc.p50Us),
        httpP50Ratio: ratio(unguarded.http.p50Us, warm.baseline.http.p50Us),
        httpP99Ratio: ratio(unguarded.http.p99Us, warm.baseline.http.p99Us),
      },
      /** The adapter's other sources; every ratio is against the baseline's Clerk figure. */
      sources: Object.fromEntries(
        Object.entries(m.sources).map(([source, pair]) => [
          source,
          {
            adapter: pair,
            inprocP50RatioVsBaselineClerk: ratio(pair.inproc.p50Us, warm.baseline.inproc.p50Us),
            inprocP99RatioVsBaselineClerk: ratio(pair.inproc.p99Us, warm.baseline.inproc.p99Us),
            httpP50RatioVsBaselineClerk: ratio(pair.http.p50Us, warm.baseline.http.p50Us),
            httpP99RatioVsBaselineClerk: ratio(pair.http.p99Us, warm.baseline.http.p99Us),
          },
        ]),
      ),
    },
    sync: {
      injectedLatencyMsPerCall: m.sync.injectedLatencyMsPerCall,
      source: 'clerk',
      adapter: m.sync.adapter,
      baseline: m.sync.baseline,
      ownP50Ratio: ratio(m.sync.adapter.ownP50Ms, m.sync.baseline.ownP50Ms),
      ownP99Ratio: ratio(m.sync.adapter.ownP99Ms, m.sync.baseline.ownP99Ms),
    },
    rssMbAfterWebhooks: {
      adapter: warm.adapter.inproc.rssMb,
      baseline: warm.baseline.inproc.rssMb,
    },
    sign: { line: m.signLine, ratio: field(m.signLine, 'ratio') },
    queue: { line: m.queueLine, updatesPerSecond: field(m.queueLine, 'update_rate') },
    /** Which secret path each kind of process used: requests each fake served during its phases. */
    secretsServed: m.secretsServed,
  };
};

export type BenchResult = ReturnType<typeof benchResult>;

type Row = [string, string, string, string];

const f = (x: number, d = 1) => x.toFixed(d);

/** The table's rows, header first. */
const tableRows = (result: BenchResult, warmup: number): Row[] => {
  const { init, size, warm, sync } = result;
  const latency = sync.injectedLatencyMsPerCall;
  const unguarded = warm.clerkUnguarded.adapter;
  const base = warm.baseline;
  return [
    ['figure', 'adapter', 'baseline', 'ratio'],
    [
      'init CPU above bare Node (ms, median)',
      f(init.adapter.cpuMs),
      f(init.baseline.cpuMs),
      f(init.cpuRatio, 2),
    ],
    [
      'init wall above bare Node (ms, median)',
      f(init.adapter.wallMs),
      f(init.baseline.wallMs),
      f(init.wallRatio, 2),
    ],
    [
      'bundle (bytes)',
      String(size.adapter.bundleBytes),
      String(size.baseline.bundleBytes),
      f(size.bundleRatio, 2),
    ],
    [
      'zip (bytes)',
      String(size.adapter.zipBytes),
      String(size.baseline.zipBytes),
      f(size.zipRatio, 2),
    ],
    [
      'warm CPU/webhook in process p50 (ms), clerk',
      f(warm.adapter.inproc.p50Us / 1000, 3),
      f(base.inproc.p50Us / 1000, 3),
      f(warm.inprocP50Ratio, 2),
    ],
    [
      'warm CPU/webhook in process p99 (ms), clerk',
      f(warm.adapter.inproc.p99Us / 1000, 3),
      f(base.inproc.p99Us / 1000, 3),
      f(warm.adapter.inproc.p99Us / base.inproc.p99Us, 2),
    ],
    [
      'warm CPU/webhook loopback HTTP p50 (ms), clerk',
      f(warm.adapter.http.p50Us / 1000, 3),
      f(base.http.p50Us / 1000, 3),
      f(warm.httpP50Ratio, 2),
    ],
    [
      'warm CPU/webhook loopback HTTP p99 (ms), clerk',
      f(warm.adapter.http.p99Us / 1000, 3),
      f(base.http.p99Us / 1000, 3),
      f(warm.httpP99Ratio, 2),
    ],
    ...(
      [
        ['in process p50', unguarded.inproc.p50Us, base.inproc.p50Us],
        ['in process p99', unguarded.inproc.p99Us, base.inproc.p99Us],
        ['loopback HTTP p50', unguarded.http.p50Us, base.http.p50Us],
        ['loopback HTTP p99', unguarded.http.p99Us, base.http.p99Us],
      ] as const
    ).map(
      ([what, mine, theirs]): Row => [
        `warm CPU/webhook ${what} (ms), clerk, guard off (1 CIAM call)`,
        f(mine / 1000, 3),
        f(theirs / 1000, 3),
        f(mine / theirs, 2),
      ],
    ),
    ...Object.entries(warm.sources).flatMap(([source, { adapter: pair }]): Row[] => {
      const row = (what: string, mine: number, theirs: number): Row => [
        `warm CPU/webhook ${what} (ms), ${source} vs baseline's clerk`,
        f(mine / 1000, 3),
        f(theirs / 1000, 3),
        f(mine / theirs, 2),
      ];
      return [
        row('in process p50', pair.inproc.p50Us, base.inproc.p50Us),
        row('in process p99', pair.inproc.p99Us, base.inproc.p99Us),
        row('loopback HTTP p50', pair.http.p50Us, base.http.p50Us),
        row('loopback HTTP p99', pair.http.p99Us, base.http.p99Us),
      ];
    }),
    [
      `sync, CIAM +${latency} ms/call: CIAM calls per request (median)`,
      String(sync.adapter.ciamCallsPerRequest.median),
      String(sync.baseline.ciamCallsPerRequest.median),
      '',
    ],
    [
      `sync, CIAM +${latency} ms/call: end-to-end p50 (ms, raw)`,
      f(sync.adapter.rawP50Ms, 2),
      f(sync.baseline.rawP50Ms, 2),
      f(sync.adapter.rawP50Ms / sync.baseline.rawP50Ms, 2),
    ],
    [
      `sync, CIAM +${latency} ms/call: end-to-end p99 (ms, raw)`,
      f(sync.adapter.rawP99Ms, 2),
      f(sync.baseline.rawP99Ms, 2),
      f(sync.adapter.rawP99Ms / sync.baseline.rawP99Ms, 2),
    ],
    [
      `sync own latency p50 (ms, end-to-end − ${latency} ms × calls)`,
      f(sync.adapter.ownP50Ms, 2),
      f(sync.baseline.ownP50Ms, 2),
      f(sync.ownP50Ratio, 2),
    ],
    [
      `sync own latency p99 (ms, end-to-end − ${latency} ms × calls)`,
      f(sync.adapter.ownP99Ms, 2),
      f(sync.baseline.ownP99Ms, 2),
      f(sync.ownP99Ratio, 2),
    ],
    [
      `RSS after ${warm.n + warmup} webhooks (MB)`,
      f(warm.adapter.inproc.rssMb),
      f(base.inproc.rssMb),
      f(warm.adapter.inproc.rssMb / base.inproc.rssMb, 2),
    ],
    [
      'signatures/s vs official SDK Sign.sign3',
      '',
      '',
      result.sign.ratio === null ? 'n/a' : f(result.sign.ratio, 2),
    ],
    [
      'queue UpdateUser rate vs CIAM 20/s',
      result.queue.updatesPerSecond === null ? 'n/a' : `${result.queue.updatesPerSecond}/s`,
      '20/s',
      result.queue.updatesPerSecond === null ? 'n/a' : f(result.queue.updatesPerSecond / 20, 3),
    ],
  ];
};

/** A Markdown table, each column padded to its widest cell. */
const table = (rows: readonly Row[]): string[] => {
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return rows.flatMap((r, i) =>
    i === 0 ? [line(r), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`] : [line(r)],
  );
};

/**
 * What `npm run bench` prints, one string per line: the table, the outcomes and secrets each side
 * was served (so a reader sees every measured webhook did the work), the machine, and last the
 * `BENCH {json}` line. `warmup` is not in the result (only the measured count is), and the RSS
 * row counts both.
 */
export const reportLines = (result: BenchResult, warmup: number): string[] => {
  const { warm, sync } = result;
  const json = JSON.stringify;
  const sources = Object.entries(warm.sources)
    .map(
      ([s, { adapter: pair }]) =>
        `${s} ${json(pair.inproc.outcomes)} / ${json(pair.http.outcomes)}`,
    )
    .join(' ');
  const calls = (s: SyncSummary) => `${s.ciamCallsPerRequest.min}-${s.ciamCallsPerRequest.max}`;
  const served = (kind: Kind) => {
    const s = result.secretsServed[kind];
    return `${kind}: Secrets Manager ${s.secretsManager}, extension ${s.extension} (${s.extensionRefused} refused)`;
  };
  return [
    ...table(tableRows(result, warmup)),
    `outcomes (loopback HTTP): adapter ${json(warm.adapter.http.outcomes)} baseline ${json(warm.baseline.http.outcomes)} clerk guard off ${json(warm.clerkUnguarded.adapter.http.outcomes)}`,
    `outcomes per source (adapter, in process / loopback HTTP): ${sources}`,
    `sync outcomes: adapter ${json(sync.adapter.outcomes)} (${calls(sync.adapter)} CIAM calls/request) baseline ${json(sync.baseline.outcomes)} (${calls(sync.baseline)})`,
    `secrets served: ${served('adapter')}; ${served('baseline')}`,
    `machine: ${result.machine.nproc} x ${result.machine.cpu}, Node ${result.machine.node}`,
    `BENCH ${json(result)}`,
  ];
};
