/**
 * `bucketjobs/aws`: the handlers that AWS's own distributed engines call. `s3BatchHandler` runs one bucketjobs batch
 * operation per task of an S3 Batch Operations `LambdaInvoke` job; `distributedMapHandler` runs it over the items of
 * one Step Functions Distributed Map child execution; `packShardHandlers` are the steps of a parallel pack. Loads no AWS SDK: the driver you pass does the I/O.
 *
 * @module
 */

export {
  DistributedMapError,
  type DistributedMapEvent,
  type DistributedMapHandlerOptions,
  type DistributedMapItem,
  type DistributedMapItemResult,
  type DistributedMapResult,
  distributedMapHandler,
} from './aws/distributed-map.js';
export {
  concatShardHandlers,
  PackShardError,
  type PackShardHandlersOptions,
  packShardHandlers,
} from './aws/pack-shards.js';
export {
  type S3BatchEvent,
  type S3BatchHandlerOptions,
  type S3BatchJobInfo,
  type S3BatchResponse,
  type S3BatchResultCode,
  type S3BatchTask,
  type S3BatchTaskResult,
  s3BatchHandler,
} from './aws/s3-batch.js';
