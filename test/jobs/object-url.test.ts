import { describe, expect, it } from 'vitest';
import { parseObjectUrl, percentDecode } from '../../src/jobs/util/object-url.js';

describe('parseObjectUrl', () => {
  const cases: Array<[string, ReturnType<typeof parseObjectUrl>]> = [
    [
      'https://photos-1250000000.cos.ap-guangzhou.myqcloud.com/a/b%20c.jpg',
      { bucket: 'photos-1250000000', key: 'a/b c.jpg', versionId: undefined },
    ],
    [
      'https://photos-1250000000.cos.accelerate.myqcloud.com/x.jpg?q-sign-algorithm=sha1&q-signature=abc',
      { bucket: 'photos-1250000000', key: 'x.jpg', versionId: undefined },
    ],
    [
      'https://my.bucket.s3.eu-west-1.amazonaws.com/dir/%E6%97%A5.txt',
      { bucket: 'my.bucket', key: 'dir/日.txt', versionId: undefined },
    ],
    ['https://bucket.s3.amazonaws.com/a+b.txt', { bucket: 'bucket', key: 'a+b.txt', versionId: undefined }],
    [
      'https://s3.us-east-1.amazonaws.com/bucket/k/v.txt?versionId=v123',
      { bucket: 'bucket', key: 'k/v.txt', versionId: 'v123' },
    ],
    ['https://acct.r2.cloudflarestorage.com/bucket/k', { bucket: 'bucket', key: 'k', versionId: undefined }],
    ['http://127.0.0.1:9000/bucket/deep/key%25.txt', { bucket: 'bucket', key: 'deep/key%.txt', versionId: undefined }],
    ['https://minio.internal:9000/bucket/key', { bucket: 'bucket', key: 'key', versionId: undefined }],
    ['https://b.oss-cn-hangzhou.aliyuncs.com/k.txt', { bucket: 'b', key: 'k.txt', versionId: undefined }],
    ['s3://bucket/a%2Fb/c', { bucket: 'bucket', key: 'a/b/c' }],
    ['cos://photos-125/x y.txt', { bucket: 'photos-125', key: 'x y.txt' }],
    ['/test/index.jpg', { key: 'test/index.jpg' }],
    ['plain/key with space.txt', { key: 'plain/key with space.txt' }],
    ['100%/a%20b', { key: '100%/a b' }],
    ['  ', undefined],
    ['https://bucket.s3.amazonaws.com/', undefined],
    ['ftp://host/b/k', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      expect(parseObjectUrl(input)).toEqual(expected);
    });
  }

  it('keeps invalid escapes and decodes the valid ones', () => {
    expect(percentDecode('a%zz%20b%')).toBe('a%zz b%');
    expect(percentDecode('%E6%97%A5%')).toBe('日%');
  });
});
