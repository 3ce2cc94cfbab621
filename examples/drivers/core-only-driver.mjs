// The smallest complete bucketjobs driver: the nine core methods and the store's capabilities, completed by
// defineDriver(). Tags, versions, restore, server-side copy and upload listings are left out, so they answer
// `Unsupported` and the capabilities say so; the jobs then plan around them (pack and concat read and upload instead
// of copying). docs/drivers/writing-a-driver.md explains each method; the contract suite
// (test/drivers/example.contract.test.ts) is the judge.
//
// `store` is your store's client. Each method maps one request to it and its failures to BucketJobsError codes. To
// run anywhere, the contract test hands in the memory driver as that client; in your driver these lines call your SDK.
import { BucketJobsError, defineDriver, ErrorCode, storePresets } from 'bucketjobs';

/** Maps a store failure to a coded error. An SDK's own errors go here: 404 → NotFound, 412 → PreconditionFailed… */
function coded(err, ref) {
  if (BucketJobsError.is(err)) return err;
  const status = err?.$metadata?.httpStatusCode ?? err?.status;
  const code =
    status === 404 ? ErrorCode.NotFound : status === 412 ? ErrorCode.PreconditionFailed : ErrorCode.Transient;
  return new BucketJobsError(code, `${ref.bucket}/${ref.key ?? ''}: ${err?.message ?? err}`, { cause: err, ref });
}

/** Runs one request, so that every failure leaves the driver coded. */
const call = (fn) => async (o) => {
  try {
    return await fn(o);
  } catch (err) {
    throw coded(err, o);
  }
};

/**
 * @param {{ store: import('bucketjobs').StorageDriver, name?: string }} options
 * @returns {import('bucketjobs').StorageDriver}
 */
export function coreOnlyDriver({ store, name = 'core-only' }) {
  return defineDriver({
    name,
    capabilities: {
      ...storePresets.aws, // S3's part limits; change what your store differs in
      store: name,
      partCopy: false,
      maxCopySize: 0,
      versioning: false,
      tagging: false,
      maxTags: 0,
      restore: false,
      archiveStorageClasses: [],
      storageClasses: ['STANDARD'],
      checksums: [],
      encryption: [],
    },
    head: call((o) => store.head(o)),
    get: call((o) => store.get(o)),
    // A listing is an async generator: its errors come on the first iteration, as every driver's do.
    async *list(o) {
      try {
        yield* store.list(o);
      } catch (err) {
        throw coded(err, o);
      }
    },
    put: call((o) => store.put(o)),
    delete: call((o) => store.delete(o)),
    createMultipart: call((o) => store.createMultipart(o)),
    uploadPart: call((o) => store.uploadPart(o)),
    completeMultipart: call((o) => store.completeMultipart(o)),
    abortMultipart: call((o) => store.abortMultipart(o)),
  });
}
