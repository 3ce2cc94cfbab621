// Tencent Cloud SCF handler with the parameters of COS's own "zip files" function (436/41619), so existing callers
// keep working: { bucket, region, key, flatten?, sourceList?: [{ url, renamePath? }], sourceConfigList?: [{ url }] }.
// It answers the same shapes: { code: 0, message: 'cos zip file success', data: { Bucket, Key, ETag } } or code -1.
import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from 'bucketjobs';
import { s3Driver } from 'bucketjobs/drivers/s3';

export async function main_handler(event) {
  const params = typeof event.body === 'string' ? JSON.parse(event.body) : event;
  const s3 = new S3Client({
    region: params.region,
    endpoint: `https://cos.${params.region}.myqcloud.com`,
    credentials: {
      accessKeyId: process.env.TENCENTCLOUD_SECRETID,
      secretAccessKey: process.env.TENCENTCLOUD_SECRETKEY,
      sessionToken: process.env.TENCENTCLOUD_SESSIONTOKEN,
    },
  });
  const client = createClient({ driver: s3Driver({ client: s3, preset: 'cos' }) });
  try {
    const job = await client.createFileCompressJob({
      bucket: params.bucket,
      output: { bucket: params.bucket, key: params.key },
      config: {
        format: 'zip',
        flatten: params.flatten ? 1 : 0,
        sources: params.sourceList ?? [],
        sourceConfigList: (params.sourceConfigList ?? []).map((c) => c.url),
      },
    });
    const { result } = await job.done();
    return {
      code: 0,
      message: 'cos zip file success',
      data: { Bucket: result.bucket, Key: result.key, ETag: result.etag },
    };
  } catch (error) {
    return { code: -1, message: 'cos zip file fail', error: { code: error.code, message: error.message } };
  }
}
