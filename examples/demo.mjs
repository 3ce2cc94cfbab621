// The embedded default, end to end: the fs driver turns a local folder into an object store (each sub-folder is a
// bucket), with the same contract as S3. Run it with `npm run demo`; it needs no cloud account.
//
// Until the pack job lands, this demo exercises the driver layer that every job stands on: atomic puts, ranged reads,
// a server-side multipart join (the building block of concatenation), copies with tags, listing, and coded errors.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BucketJobsError } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';

const root = resolve(process.env.DEMO_ROOT ?? '.demo');
await rm(root, { recursive: true, force: true });
const store = fsDriver({ root });
const bucket = 'media';
await store.createBucket(bucket);

const MiB = 1024 * 1024;
const enc = new TextEncoder();
const md5 = (b) => createHash('md5').update(b).digest('hex');

// 1. Objects in, with metadata and tags.
const video = new Uint8Array(6 * MiB).map((_, i) => (i * 31) & 0xff);
const files = {
  'raw/2026/clip-001.bin': video,
  'raw/2026/notes.txt': enc.encode('shot on location, take 3\n'),
  'raw/2026/credits.txt': enc.encode('camera: A. Lee\n'),
};
for (const [key, body] of Object.entries(files)) {
  const { etag } = await store.put({ bucket, key, body, metadata: { project: 'demo' }, tags: { stage: 'raw' } });
  console.log(`put   ${key.padEnd(24)} ${String(body.length).padStart(8)} B  etag ${etag}`);
}

// 2. A server-side join: part 1 is a ranged copy of the clip (no bytes through us), part 2 uploads the notes.
const key = 'joined/clip-with-notes.bin';
const { uploadId } = await store.createMultipart({ bucket, key, contentType: 'application/octet-stream' });
const clip = await store.head({ bucket, key: 'raw/2026/clip-001.bin' });
const p1 = await store.copyPart({
  bucket,
  key,
  uploadId,
  partNumber: 1,
  source: { bucket, key: 'raw/2026/clip-001.bin', ifMatch: clip.etag },
  range: { start: 0, end: 5 * MiB - 1 },
});
const notes = files['raw/2026/notes.txt'];
const p2 = await store.uploadPart({ bucket, key, uploadId, partNumber: 2, body: notes, size: notes.length });
const joined = await store.completeMultipart({ bucket, key, uploadId, parts: [p1, p2] });
const head = await store.head({ bucket, key });
console.log(`join  ${key} = ${head.size} B, etag ${joined.etag}`);

// 3. Read the seam back with a ranged GET and check it byte for byte.
const seam = await store.get({ bucket, key, range: { start: 5 * MiB - 4, end: 5 * MiB + 9 } });
const seamBytes = new Uint8Array(await new Response(seam.body).arrayBuffer());
const expected = new Uint8Array([...video.subarray(5 * MiB - 4, 5 * MiB), ...notes.subarray(0, 10)]);
console.log(`range ${seam.range.start}-${seam.range.end}: ${md5(seamBytes) === md5(expected) ? 'matches' : 'DIFFERS'}`);

// 4. Copy with new tags, then list the bucket page by page.
await store.copy({
  source: { bucket, key: 'raw/2026/notes.txt' },
  bucket,
  key: 'published/notes.txt',
  taggingDirective: 'REPLACE',
  tags: { stage: 'published' },
});
console.log('tags  published/notes.txt', JSON.stringify(await store.getTags({ bucket, key: 'published/notes.txt' })));
console.log('list:');
for await (const entry of store.list({ bucket, pageSize: 2 })) {
  if (entry.type === 'object') console.log(`      ${entry.key.padEnd(30)} ${String(entry.size).padStart(8)} B`);
}

// 5. Hostile input gets a coded error and writes nothing.
try {
  await store.put({ bucket, key: '../../etc/passwd', body: enc.encode('x') });
} catch (err) {
  if (!BucketJobsError.is(err)) throw err;
  console.log(`error ${err.code}: ${err.message}`);
}
console.log(`\nThe store is a plain folder: ls -R ${root}/${bucket}`);
