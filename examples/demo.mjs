// The main job on the embedded default: the fs driver turns a local folder into an object store (each sub-folder is
// a bucket), and createFileCompressJob packs a prefix of it into a zip written back into the store, as COS
// FileCompress does in the cloud. Run it with `npm run demo`; it needs no cloud account.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BucketJobsError, createClient } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';

const root = resolve(process.env.DEMO_ROOT ?? '.demo');
await rm(root, { recursive: true, force: true });
const store = fsDriver({ root });
const client = createClient({ driver: store });

// 1. A sample folder: ./.demo/media/... (text compresses; the "photo" is random bytes, so it is stored as is).
await store.createBucket('media');
const enc = new TextEncoder();
const samples = {
  'trip/2026/notes.txt': enc.encode('Day 1: arrived. Day 2: hiked. '.repeat(400)),
  'trip/2026/photos/IMG_0001.jpg': crypto.getRandomValues(new Uint8Array(60_000)),
  'trip/2026/photos/IMG_0002.jpg': crypto.getRandomValues(new Uint8Array(60_000)),
  'trip/2026/itinerary 日本.csv': enc.encode('day,city\n1,Kyoto\n2,Nara\n'),
  'trip/2026/empty.log': new Uint8Array(0),
};
for (const [key, body] of Object.entries(samples)) await store.put({ bucket: 'media', key, body });

// 2. Pack the prefix into a zip (flatten 3: paths relative to the prefix), with progress.
const job = await client.createFileCompressJob({
  bucket: 'media',
  output: { bucket: 'media', key: 'archives/trip-2026.zip' },
  config: { format: 'zip', prefix: 'trip/2026/', flatten: 3 },
  userData: 'demo',
  onProgress: (p) =>
    process.stdout.write(`\rprogress ${String(p.progress).padStart(3)}%  ${p.objectsDone}/${p.objectsTotal} files`),
});
const detail = await job.done();
process.stdout.write('\n');
console.log(JSON.stringify({ ...detail, operation: { ...detail.operation, config: '…' } }, null, 2));

// 3. The same job with a missing source: by default the job fails with a coded error and writes nothing ...
const failing = await client.createFileCompressJob({
  bucket: 'media',
  output: { bucket: 'media', key: 'archives/partial.tar.gz' },
  config: { format: 'tar.gz', keys: ['trip/2026/notes.txt', 'trip/2026/missing.txt'] },
});
try {
  await failing.done();
} catch (err) {
  if (!BucketJobsError.is(err)) throw err;
  console.log(`\nwithout ignoreError: ${err.code}: ${err.message}`);
}
// ... and with ignoreError it skips the source and says why.
const lenient = await client.createFileCompressJob({
  bucket: 'media',
  output: { bucket: 'media', key: 'archives/partial.tar.gz' },
  config: { format: 'tar.gz', keys: ['trip/2026/notes.txt', 'trip/2026/missing.txt'], ignoreError: true },
});
const { result } = await lenient.done();
console.log(`with ignoreError: packed ${result.compressFileCount}, skipped ${result.errorCount}:`, result.errorFiles);

console.log(`\nThe archives are plain files: unzip -l ${root}/media/archives/trip-2026.zip`);
