// Tencent Cloud SCF handler with the parameters of COS's own "zip files" function (436/41619), so existing callers
// keep working: { bucket, region, key, flatten?, sourceList?: [{ url, renamePath? }], sourceConfigList?: [{ url }] }.
// It answers the same shapes: { code: 0, message: 'cos zip file success', data: { Bucket, Key, ETag } } or code -1.
//
// A pack that needs longer than the function may run finishes in several invocations. Each one packs until SCF's
// time is nearly up (`deadline`), then the job pauses at a part boundary with its multipart upload open, and the
// next invocation continues it under the same job id. Two ways to chain:
//   - mode "self" (the default): the handler invokes itself asynchronously (InvocationType "Event") with
//     { jobId, bucket, region } (needs scf:InvokeFunction on itself and tencentcloud-sdk-nodejs-scf in the bundle),
//     and answers { code: 1, message: 'cos zip file continued', data: { jobId } };
//   - mode "workflow": it answers { status: 'continue', jobId, bucket, region }, and an ASW (Application Service
//     Workflow) loop calls it again with that output until { status: 'done' } (the state machine is at the end).
// The job store lives in the bucket (driverJobStore), so any instance can continue any job. Give the bucket the
// lifecycle rule "abort incomplete multipart uploads" (docs/jobs/compress.md) as the backstop for a chain that is
// never continued.
//
// Try it locally, without a cloud account: BUCKETJOBS_FS_ROOT=/some/folder makes it use the fs driver there (the
// package test test/package/handlers.test.ts does this).
import { S3Client } from '@aws-sdk/client-s3';
import { BucketJobsError, createClient, driverJobStore } from 'bucketjobs';
import { fsDriver } from 'bucketjobs/drivers/fs';
import { s3Driver } from 'bucketjobs/drivers/s3';

/** Stop starting parts when this much time is left: the parts in flight finish, and the checkpoint is saved. */
const RESERVE_MS = Number(process.env.BUCKETJOBS_RESERVE_MS ?? 20_000);

function driverFor(region) {
  if (process.env.BUCKETJOBS_FS_ROOT) return fsDriver({ root: process.env.BUCKETJOBS_FS_ROOT });
  const s3 = new S3Client({
    region,
    endpoint: `https://cos.${region}.myqcloud.com`,
    credentials: {
      accessKeyId: process.env.TENCENTCLOUD_SECRETID,
      secretAccessKey: process.env.TENCENTCLOUD_SECRETKEY,
      sessionToken: process.env.TENCENTCLOUD_SESSIONTOKEN,
    },
  });
  return s3Driver({ client: s3, preset: 'cos' });
}

/**
 * The time left: SCF's Node.js runtime gives `context.getRemainingTimeInMillis()`; older runtimes only
 * `time_limit_in_ms`, counted from the start of the invocation.
 */
function remainingTime(context, started) {
  if (typeof context?.getRemainingTimeInMillis === 'function') return () => context.getRemainingTimeInMillis();
  const limit = Number(context?.time_limit_in_ms ?? 900_000);
  return () => started + limit - Date.now();
}

export async function main_handler(event, context) {
  const started = Date.now();
  const params = typeof event.body === 'string' ? JSON.parse(event.body) : event;
  const driver = driverFor(params.region);
  const client = createClient({
    driver,
    jobStore: driverJobStore({ driver, bucket: params.bucket, prefix: '.bucketjobs/jobs/' }),
  });
  const budget = { deadline: remainingTime(context, started), deadlineReserveMs: RESERVE_MS };
  const workflow = params.mode === 'workflow';
  try {
    const job = params.jobId
      ? // A paused job resumes at once; one whose instance died is resumed once its heartbeat is 15 s old.
        await client.resumeJob(params.jobId, budget)
      : await client.createFileCompressJob({
          bucket: params.bucket,
          output: { bucket: params.bucket, key: params.key },
          config: {
            format: 'zip',
            flatten: params.flatten ? 1 : 0,
            sources: params.sourceList ?? [],
            sourceConfigList: (params.sourceConfigList ?? []).map((c) => c.url),
          },
          ...budget,
        });
    const detail = await job.done();
    if (detail.state === 'Paused') {
      const next = { jobId: job.id, bucket: params.bucket, region: params.region, mode: params.mode };
      if (workflow) return { status: 'continue', ...next };
      await invokeSelf(context, next);
      return { code: 1, message: 'cos zip file continued', data: { jobId: job.id, ...detail.resumable } };
    }
    const { result } = detail;
    const data = { Bucket: result.bucket, Key: result.key, ETag: result.etag };
    return workflow ? { status: 'done', jobId: job.id, ...data } : { code: 0, message: 'cos zip file success', data };
  } catch (error) {
    // Failed: the upload was aborted and nothing was written. A workflow Retry acts on retryable errors.
    if (workflow) throw error;
    if (!BucketJobsError.is(error)) throw error;
    return { code: -1, message: 'cos zip file fail', error: { code: error.code, message: error.message } };
  }
}

/** Invokes this function again, asynchronously, with the job to continue. */
async function invokeSelf(context, payload) {
  const { scf } = await import('tencentcloud-sdk-nodejs-scf');
  const api = new scf.v20180416.Client({
    credential: {
      secretId: process.env.TENCENTCLOUD_SECRETID,
      secretKey: process.env.TENCENTCLOUD_SECRETKEY,
      token: process.env.TENCENTCLOUD_SESSIONTOKEN,
    },
    region: context.tencentcloud_region ?? payload.region,
  });
  await api.Invoke({
    FunctionName: context.function_name,
    Namespace: context.namespace,
    Qualifier: context.function_version,
    InvocationType: 'Event',
    ClientContext: JSON.stringify(payload),
  });
}

// An ASW loop for mode "workflow" (ASW speaks Amazon States Language):
// { "StartAt": "Pack", "States": {
//     "Pack": { "Type": "Task", "Resource": "qrn:qcs:asw:ap-guangzhou:<appid>:sdk:json:qcloud:scf:Invoke/<namespace>/<function>",
//               "Retry": [{ "ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2 }], "Next": "More?" },
//     "More?": { "Type": "Choice", "Choices": [{ "Variable": "$.status", "StringEquals": "continue", "Next": "Pack" }],
//                "Default": "Done" },
//     "Done": { "Type": "Succeed" } } }
