// AWS Lambda handler: pack objects from S3 into one zip in S3, however long it takes, in as many invocations as it
// needs. Each invocation packs until Lambda's time is nearly up (`deadline`), then the job pauses at a part
// boundary with its multipart upload open, and the next invocation continues it under the same job id. Two ways to
// chain, both shown:
//   - mode "self" (the default): the handler re-invokes itself asynchronously with { jobId } (needs
//     lambda:InvokeFunction on itself and @aws-sdk/client-lambda in the bundle);
//   - mode "stepfunctions": it returns { status: "continue", jobId } and a Step Functions loop (a Choice state on
//     $.status) calls it again with that output, until { status: "done" }.
// The job store lives in the output bucket (driverJobStore), so any container can continue any job.
//
// Event: { "bucket": "photos", "prefix": "2026/trip/", "outputKey": "archives/trip.zip", "mode": "self" }
//        or, to continue: { "jobId": "...", "mode": "self" }
// Deploy with bucketjobs, @aws-sdk/client-s3 and @aws-sdk/lib-storage in the bundle. Give the bucket the lifecycle
// rule AbortIncompleteMultipartUpload (docs/jobs/compress.md) as the backstop for a chain that is never continued.
import { S3Client } from '@aws-sdk/client-s3';
import { BucketJobsError, createClient, driverJobStore } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';
import { s3Driver } from 'bucketjobs/drivers/s3';

// Created once per container, reused across invocations. BUCKETJOBS_FS_ROOT=/some/folder runs it locally on the fs
// driver, without a cloud account (test/package/handlers.test.ts does this).
const driver = process.env.BUCKETJOBS_FS_ROOT
  ? fsDriver({ root: process.env.BUCKETJOBS_FS_ROOT })
  : s3Driver({ client: new S3Client({}) });
const clientFor = (bucket) =>
  createClient({ driver, jobStore: driverJobStore({ driver, bucket, prefix: '.bucketjobs/jobs/' }) });

/** Stop starting parts when this much time is left: the parts in flight finish, and the checkpoint is saved. */
const RESERVE_MS = Number(process.env.BUCKETJOBS_RESERVE_MS ?? 20_000);

export async function handler(event, context) {
  const outputBucket = event.outputBucket ?? event.bucket;
  const client = clientFor(outputBucket);
  const budget = { deadline: () => context.getRemainingTimeInMillis(), deadlineReserveMs: RESERVE_MS };
  try {
    const job = event.jobId
      ? // A paused job resumes at once; one whose container died is resumed once its heartbeat is 15 s old.
        await client.resumeJob(event.jobId, budget)
      : await client.createFileCompressJob({
          bucket: event.bucket,
          output: { bucket: outputBucket, key: event.outputKey },
          config: { format: event.format ?? 'zip', prefix: event.prefix, flatten: 3, ignoreError: true },
          ...budget,
        });
    const detail = await job.done();
    if (detail.state === 'Paused') {
      const next = { jobId: job.id, outputBucket, mode: event.mode };
      if (event.mode === 'stepfunctions') return { status: 'continue', ...next };
      await invokeSelf(context.functionName, next);
      return { statusCode: 202, body: JSON.stringify({ jobId: job.id, continued: true, ...detail.resumable }) };
    }
    const done = { jobId: job.id, ...detail.result };
    return event.mode === 'stepfunctions'
      ? { status: 'done', ...done }
      : { statusCode: 200, body: JSON.stringify(done) };
  } catch (err) {
    if (!BucketJobsError.is(err)) throw err;
    // Failed: the upload was aborted and nothing was written. A Step Functions Retry acts on retryable errors.
    if (event.mode === 'stepfunctions') throw err;
    return { statusCode: 500, body: JSON.stringify({ code: err.code, message: err.message }) };
  }
}

/** Invokes this function again, asynchronously, with the job to continue. */
async function invokeSelf(functionName, payload) {
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  await new LambdaClient({}).send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
}

// A Step Functions loop for mode "stepfunctions" (Amazon States Language):
// { "StartAt": "Pack", "States": {
//     "Pack": { "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
//               "Parameters": { "FunctionName": "pack", "Payload.$": "$" },
//               "Retry": [{ "ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2 }], "Next": "More?" },
//     "More?": { "Type": "Choice", "Choices": [{ "Variable": "$.status", "StringEquals": "continue", "Next": "Pack" }],
//                "Default": "Done" },
//     "Done": { "Type": "Succeed" } } }
