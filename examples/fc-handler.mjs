// Alibaba Cloud Function Compute (HTTP trigger) handler in the shape of the zip-oss demo: pack `source-files`
// (or everything under `source-dir`) from an OSS bucket into `dest-file`, then answer with the archive's key.
// OSS speaks the S3 API; the `oss` preset carries its limits (100 KB parts, 1 GB CopyObject).
import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from 'bucketjobs';
import { s3Driver } from 'bucketjobs/drivers/s3';

export async function handler(req, resp, context) {
  const body = JSON.parse(req.body?.toString() || '{}');
  const region = context.region;
  const s3 = new S3Client({
    region,
    endpoint: `https://oss-${region}-internal.aliyuncs.com`,
    credentials: {
      accessKeyId: context.credentials.accessKeyId,
      secretAccessKey: context.credentials.accessKeySecret,
      sessionToken: context.credentials.securityToken,
    },
  });
  const client = createClient({ driver: s3Driver({ client: s3, preset: 'oss' }) });
  const dest = body['dest-file'] ?? `output/${context.requestId}.zip`;
  const files = body['source-files'];
  const job = await client.createFileCompressJob({
    bucket: body.bucket,
    output: { bucket: body.bucket, key: dest },
    config: files
      ? { format: 'zip', keys: files, flatten: 1 }
      : { format: 'zip', prefix: body['source-dir'], flatten: 3 },
  });
  const { result } = await job.done();
  resp.setStatusCode(200);
  resp.setHeader('content-type', 'application/json');
  resp.send(
    JSON.stringify({ bucket: result.bucket, key: result.key, size: result.size, files: result.compressFileCount }),
  );
}
