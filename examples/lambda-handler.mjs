// AWS Lambda handler: pack objects from S3 into one zip in S3, synchronously (the COS "sync" mode), stopping cleanly
// before Lambda's time limit. A job cancelled by the time budget aborts its multipart upload and leaves nothing.
//
// Event: { "bucket": "photos", "prefix": "2026/trip/", "outputKey": "archives/trip.zip" }
// Deploy with bucketjobs, @aws-sdk/client-s3 and @aws-sdk/lib-storage in the bundle.
import { S3Client } from '@aws-sdk/client-s3';
import { BucketJobsError, createClient } from 'bucketjobs';
import { s3Driver } from 'bucketjobs/drivers/s3';

// Created once per container, reused across invocations.
const client = createClient({ driver: s3Driver({ client: new S3Client({}) }) });

/** Leave this much of Lambda's time for cleanup (abort of the multipart upload) and the response. */
const SAFETY_MS = 10_000;

export async function handler(event, context) {
  const budget = AbortSignal.timeout(Math.max(1_000, context.getRemainingTimeInMillis() - SAFETY_MS));
  const job = await client.createFileCompressJob({
    bucket: event.bucket,
    output: { bucket: event.outputBucket ?? event.bucket, key: event.outputKey },
    config: { format: event.format ?? 'zip', prefix: event.prefix, flatten: 3, ignoreError: true },
    signal: budget,
  });
  try {
    const { result } = await job.done();
    return { statusCode: 200, body: JSON.stringify(result) };
  } catch (err) {
    if (!BucketJobsError.is(err)) throw err;
    // Aborted when the time budget ran out; the output was not written and no upload is left behind.
    return {
      statusCode: err.code === 'Aborted' ? 504 : 500,
      body: JSON.stringify({ code: err.code, message: err.message }),
    };
  }
}
