// `npm run bench` init probe: a fresh Node process that loads one bundle (or none, for bare Node)
// and prints the process's CPU time and wall time since it started, right after the load.
// Plain JavaScript so no TypeScript loader is measured.
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (bundle !== undefined && bundle !== 'none') await import(pathToFileURL(bundle).href);
const cpu = process.cpuUsage();
const wallMs = performance.now();
process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs })}\n`);
process.exit(0);
