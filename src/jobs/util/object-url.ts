/**
 * Turns what users put in COS `UrlList` files, SCF `sourceList` items and manifests into `{ bucket, key }`:
 * COS URLs, S3 virtual-host and path-style URLs, OSS and R2 URLs, `s3://` / `cos://` / `oss://` URIs, and plain keys.
 * Keys are percent-decoded (a `%` that does not start a valid escape is kept as it is); `+` stays `+`, as in URL paths.
 *
 * @module
 */

export interface ParsedObjectUrl {
  /** The bucket named by the URL; undefined for a plain key (the job's bucket applies). */
  readonly bucket?: string | undefined;
  readonly key: string;
  /** `versionId` from the query string, when the URL carries one. */
  readonly versionId?: string | undefined;
}

/** Decodes `%XX` escapes; a key that is not valid percent-encoding is returned as it is. */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // Decode the valid escapes only, so '100%/a%20b' becomes '100%/a b'.
    return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

// Virtual-host styles: the bucket is the first label before a known service suffix.
const VIRTUAL_HOST: readonly RegExp[] = [
  /^(.+)\.cos(?:-website)?\.[a-z0-9-]+\.myqcloud\.com$/i, // COS: bucket-appid.cos.ap-guangzhou.myqcloud.com
  /^(.+)\.cos\.accelerate\.myqcloud\.com$/i,
  /^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/i, // bucket.s3.eu-west-1.amazonaws.com
  /^(.+)\.s3-accelerate(?:\.dualstack)?\.amazonaws\.com$/i,
  /^(.+)\.oss-[a-z0-9-]+(?:-internal)?\.aliyuncs\.com$/i, // OSS
];

// Path-style hosts: the bucket is the first path segment.
const PATH_STYLE: readonly RegExp[] = [
  /^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/i,
  /\.r2\.cloudflarestorage\.com$/i,
  /^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i,
];

function splitFirst(path: string): [string, string] {
  const i = path.indexOf('/');
  return i < 0 ? [path, ''] : [path.slice(0, i), path.slice(i + 1)];
}

/**
 * Parses one URL or key. Hosts of COS, S3, OSS (virtual-host style) give the bucket from the host name; every other
 * host (S3 path style, R2, MinIO, Ceph, custom endpoints) is read path-style: `/<bucket>/<key>`.
 * Returns undefined for an empty line or a URL with no key.
 */
export function parseObjectUrl(input: string): ParsedObjectUrl | undefined {
  const text = input.trim();
  if (text === '') return undefined;

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // A plain key (COS UrlList allows '/test/a.jpg'): drop leading slashes and any query.
    const key = percentDecode(text.replace(/[?#].*$/, '').replace(/^\/+/, ''));
    return key === '' ? undefined : { key };
  }
  if (scheme === 's3' || scheme === 'cos' || scheme === 'oss' || scheme === 'r2') {
    const rest = text.slice(scheme.length + 3);
    const [bucket, key] = splitFirst(rest);
    return key === '' ? undefined : { bucket, key: percentDecode(key) };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const versionId = url.searchParams.get('versionId') ?? url.searchParams.get('versionid') ?? undefined;
  // url.pathname keeps percent-escapes; decode once, after splitting, so an encoded '/' (%2F) stays in the key.
  const path = url.pathname.replace(/^\//, '');
  const host = url.hostname;
  for (const re of VIRTUAL_HOST) {
    const m = re.exec(host);
    if (m && !PATH_STYLE.some((p) => p.test(host))) {
      return path === '' ? undefined : { bucket: m[1], key: percentDecode(path), versionId };
    }
  }
  const [bucket, key] = splitFirst(path);
  return key === '' ? undefined : { bucket: percentDecode(bucket), key: percentDecode(key), versionId };
}
