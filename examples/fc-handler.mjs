// Alibaba Cloud Function Compute 3.0 handler in the shape of the zip-oss demo: pack `source-files` (or everything
// under `source-dir`) from an OSS bucket into `dest-file`, then answer with the archive's key. It takes the event
// as an HTTP trigger gives it (the parameters in the JSON body) or as a direct or CloudFlow invocation (the
// parameters are the event). OSS speaks the S3 API; the `oss` preset carries its limits (100 KB parts, 1 GB
// CopyObject).
//
// A pack that needs longer than the function's timeout finishes in several invocations. Each one packs until the
// timeout is near (`deadline`), then the job pauses at a part boundary with its multipart upload open, and the
// next invocation continues it under the same job id. Two ways to chain:
//   - mode "self" (the default): the handler invokes itself asynchronously (`x-fc-invocation-type: Async`) with
//     { jobId, bucket } (needs fc:InvokeFunction on itself and @alicloud/fc20230330 in the bundle), and answers 202;
//   - mode "workflow": it answers { status: 'continue', jobId, bucket }, and a CloudFlow loop calls it again with
//     that output until { status: 'done' } (the flow is at the end).
// The job store lives in the bucket (driverJobStore), so any instance can continue any job. Give the bucket the
// lifecycle rule that deletes incomplete multipart uploads (docs/jobs/compress.md) as the backstop for a chain that
// is never continued.
//
// Try it locally, without a cloud account: BUCKETJOBS_FS_ROOT=/some/folder makes it use the fs driver there (the
// package test test/package/handlers.test.ts does this).
import { S3Client } from '@aws-sdk/client-s3';
import { BucketJobsError, createClient, driverJobStore } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';
import { s3Driver } from 'bucketjobs/drivers/s3';

/** Stop starting parts when this much time is left: the parts in flight finish, and the checkpoint is saved. */
const RESERVE_MS = Number(process.env.BUCKETJOBS_RESERVE_MS ?? 20_000);

function driverFor(context) {
  if (process.env.BUCKETJOBS_FS_ROOT) return fsDriver({ root: process.env.BUCKETJOBS_FS_ROOT });
  const s3 = new S3Client({
    region: context.region,
    endpoint: `https://oss-${context.region}-internal.aliyuncs.com`,
    credentials: {
      accessKeyId: context.credentials.accessKeyId,
      secretAccessKey: context.credentials.accessKeySecret,
      sessionToken: context.credentials.securityToken,
    },
  });
  return s3Driver({ client: s3, preset: 'oss' });
}

const json = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export async function handler(event, context) {
  const started = Date.now();
  const raw = JSON.parse(Buffer.isBuffer(event) ? event.toString('utf8') : typeof event === 'string' ? event : '{}');
  const http = typeof raw.body === 'string' || raw.requestContext !== undefined;
  const body = http ? JSON.parse((raw.isBase64Encoded ? Buffer.from(raw.body, 'base64') : raw.body) || '{}') : raw;
  const driver = driverFor(context);
  const client = createClient({
    driver,
    jobStore: driverJobStore({ driver, bucket: body.bucket, prefix: '.bucketjobs/jobs/' }),
  });
  // FC gives the timeout in seconds, counted from the start of the invocation.
  const limitMs = Number(context.function?.timeout ?? 600) * 1000;
  const budget = { deadline: started + limitMs, deadlineReserveMs: RESERVE_MS };
  const workflow = body.mode === 'workflow';
  try {
    const files = body['source-files'];
    const job = body.jobId
      ? // A paused job resumes at once; one whose instance died is resumed once its heartbeat is 15 s old.
        await client.resumeJob(body.jobId, budget)
      : await client.createFileCompressJob({
          bucket: body.bucket,
          output: { bucket: body.bucket, key: body['dest-file'] ?? `output/${context.requestId}.zip` },
          config: files
            ? { format: 'zip', keys: files, flatten: 1 }
            : { format: 'zip', prefix: body['source-dir'], flatten: 3 },
          ...budget,
        });
    const detail = await job.done();
    if (detail.state === 'Paused') {
      const next = { jobId: job.id, bucket: body.bucket, mode: body.mode };
      if (workflow) return { status: 'continue', ...next };
      await invokeSelf(context, next);
      return json(202, { jobId: job.id, continued: true, ...detail.resumable });
    }
    const { result } = detail;
    const done = { bucket: result.bucket, key: result.key, size: result.size, files: result.compressFileCount };
    return workflow ? { status: 'done', jobId: job.id, ...done } : json(200, done);
  } catch (error) {
    // Failed: the upload was aborted and nothing was written. A CloudFlow Retry acts on retryable errors.
    if (workflow || !BucketJobsError.is(error)) throw error;
    return json(error.retryable ? 503 : 400, { code: error.code, message: error.message });
  }
}

/** Invokes this function again, asynchronously, with the job to continue. */
async function invokeSelf(context, payload) {
  const { default: FC, InvokeFunctionHeaders, InvokeFunctionRequest } = await import('@alicloud/fc20230330');
  const api = new FC({
    accessKeyId: context.credentials.accessKeyId,
    accessKeySecret: context.credentials.accessKeySecret,
    securityToken: context.credentials.securityToken,
    endpoint: `${context.accountId}.${context.region}.fc.aliyuncs.com`,
  });
  await api.invokeFunctionWithOptions(
    context.function.name,
    new InvokeFunctionRequest({ body: Buffer.from(JSON.stringify(payload)) }),
    new InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
    {},
  );
}

// A CloudFlow loop for mode "workflow" (FDL):
// Type: StateMachine
// SpecVersion: v1
// StartAt: Pack
// States:
//   - Type: Task
//     Name: Pack
//     Action: FC:InvokeFunction
//     TaskMode: RequestComplete
//     Parameters: { resourceArn: acs:fc:<region>:<account>:functions/pack, body.$: $Input }
//     OutputConstructor: { status.$: $Output.Body.status, jobId.$: $Output.Body.jobId, bucket.$: $Output.Body.bucket, mode: workflow }
//     Retry: [{ Errors: [FC.ResourceThrottled, FC.InternalServerError], MaxAttempts: 2 }]
//     Next: More
//   - Type: Choice
//     Name: More
//     Branches: [{ Condition: $Input.status == "continue", Next: Pack }]
//     Default: Done
//   - Type: Succeed
//     Name: Done
