// One load against one server, in its own process (so the orchestrator can pin it to the generator CPU):
//   node --import tsx bench/load-generator.ts <job.json>
// Prints one `BENCH_RESULT {json}` line (a LoadResult) and exits 0, or prints the error and exits 1.
import { readFileSync } from 'node:fs';
import type { GeneratorJob, LoadResult } from './load-spec.js';
import { RESULT_PREFIX } from './load-spec.js';
import { runConnectionRate } from './loads/connection-rate.js';
import { runIdleMemory } from './loads/idle-memory.js';
import { runMessageRate } from './loads/message-rate.js';

function run(job: GeneratorJob): Promise<LoadResult> {
  const load = job.load;
  switch (load.kind) {
    case 'connections':
      return runConnectionRate(job, load);
    case 'messages':
      return runMessageRate(job, load);
    case 'idle-memory':
      return runIdleMemory(job, load);
  }
}

const jobPath = process.argv[2];
if (jobPath === undefined) {
  console.error('usage: node --import tsx bench/load-generator.ts <job.json>');
  process.exit(2);
}
const job = JSON.parse(readFileSync(jobPath, 'utf8')) as GeneratorJob;
try {
  const result = await run(job);
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
  // Sockets still closing must not keep the process (and the bench) waiting.
  process.exit(0);
} catch (e) {
  console.error(`load ${job.load.kind} against ${job.target.name} failed:`, e);
  process.exit(1);
}
