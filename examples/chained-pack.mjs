// A pack that needs longer than its "function" may run, finished in several invocations, as a cloud function chain
// would: each invocation is a new process with a 2-second limit (`deadline`), which packs until the limit is near,
// pauses at a part boundary with its upload open, and hands the job id to the next one. The job store is a
// driverJobStore in the output bucket, so a new process continues where the last one stopped, under the same id.
// Runs on the fs driver, with no cloud account: `node examples/chained-pack.mjs` (CHAINED_MB sets the size, 400 MiB
// by default: 3 invocations here). The limit stops parts, not the commit: the last invocation also waits for the
// complete, which on the fs driver assembles the parts into one file (about 2 s for 400 MiB).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, driverJobStore } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';

const root = resolve(process.env.DEMO_ROOT ?? '.demo-chained');
const LIMIT_MS = 2_000;
const driver = fsDriver({ root });
const client = createClient({ driver, jobStore: driverJobStore({ driver, bucket: 'archives', prefix: '.jobs/' }) });

if (process.argv[2] === 'invoke') {
  // One invocation: start the job, or continue the one named, until the limit is near.
  const started = Date.now();
  const budget = { deadline: started + LIMIT_MS, deadlineReserveMs: 300, staleAfterMs: 0 };
  const jobId = process.argv[3];
  const job = jobId
    ? await client.resumeJob(jobId, budget)
    : await client.createFileCompressJob({
        bucket: 'media',
        output: { bucket: 'archives', key: 'all-media.zip' },
        config: { format: 'zip', prefix: 'raw/', compression: 'store' },
        partSize: 8 * 1024 * 1024,
        deadline: budget.deadline,
        deadlineReserveMs: budget.deadlineReserveMs,
      });
  const detail = await job.done();
  const took = Date.now() - started;
  console.log(
    JSON.stringify({ jobId: job.id, state: detail.state, ms: took, committed: detail.resumable?.bytesCommitted }),
  );
  process.exit(0);
}

// The driver of the chain: seed the sources, then invoke until the job is done.
await rm(root, { recursive: true, force: true });
await driver.createBucket('media');
await driver.createBucket('archives');
const mb = Number(process.env.CHAINED_MB ?? 400);
for (let i = 0; i < mb; i++) {
  const body = randomBytes(1024 * 1024);
  await driver.put({ bucket: 'media', key: `raw/clip-${String(i).padStart(4, '0')}.bin`, body });
}
console.log(`${mb} MiB of sources under media/raw/; each invocation may run ${LIMIT_MS} ms`);

const self = fileURLToPath(import.meta.url);
let jobId;
for (let n = 1; ; n++) {
  const out = execFileSync(process.execPath, [self, 'invoke', ...(jobId ? [jobId] : [])], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop());
  jobId = r.jobId;
  console.log(`invocation ${n}: ${r.state} after ${r.ms} ms${r.committed ? `, ${r.committed} bytes in parts` : ''}`);
  if (r.state === 'Success') {
    const head = await driver.head({ bucket: 'archives', key: 'all-media.zip' });
    console.log(`done in ${n} invocations: archives/all-media.zip, ${head.size} bytes, job ${jobId}`);
    break;
  }
  if (r.state !== 'Paused' || n > 100) throw new Error(`unexpected: ${JSON.stringify(r)}`);
}
const uploads = [];
for await (const u of driver.listMultipartUploads({ bucket: 'archives' })) uploads.push(u);
console.log(`multipart uploads left: ${uploads.length}`);
