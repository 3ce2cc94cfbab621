// The Lambdas that AWS's own distributed engines call, from bucketjobs/aws (no AWS SDK is loaded by it; the
// s3Driver here brings @aws-sdk/client-s3):
//   - `s3Batch`: for an S3 Batch Operations job with a LambdaInvoke operation (schema 1.0 or 2.0). With schema 2.0,
//     the job's UserArguments choose the target bucket;
//   - `distributedMap`: for the ItemProcessor of a Step Functions Distributed Map (examples/distributed-map.asl.json),
//     one ItemBatcher batch per invocation; BatchInput names the source bucket and the target.
//   - `packPlan`, `packShard`, `packFinish`, `packCancel`: the steps of a parallel pack (examples/parallel-pack.asl.json),
//     one archive written by many Lambdas. Give the shard function enough time for its shard (up to 900 s).
// Deploy each as its own function (handler: aws-handlers.s3Batch, aws-handlers.distributedMap, aws-handlers.packShard ...).
//
// AWS SAM, for the Distributed Map one:
//   CopyFunction:
//     Type: AWS::Serverless::Function
//     Properties: { Handler: aws-handlers.distributedMap, Runtime: nodejs22.x, Timeout: 900, MemorySize: 1024,
//                   Policies: [S3CrudPolicy: { BucketName: amzn-s3-demo-bucket }, S3CrudPolicy: { BucketName: amzn-s3-demo-target }] }
//   CopyStateMachine:
//     Type: AWS::Serverless::StateMachine
//     Properties: { DefinitionUri: distributed-map.asl.json, Policies: [LambdaInvokePolicy: { FunctionName: !Ref CopyFunction },
//                   S3ReadPolicy: { BucketName: amzn-s3-demo-bucket }, S3WritePolicy: { BucketName: amzn-s3-demo-reports }] }
import { S3Client } from '@aws-sdk/client-s3';
import { distributedMapHandler, packShardHandlers, s3BatchHandler } from 'bucketjobs/aws';
import { s3Driver } from 'bucketjobs/drivers/s3';

const driver = s3Driver({ client: new S3Client({}) });

export const s3Batch = s3BatchHandler({
  driver,
  operation: ({ userArguments }) => ({ copy: { targetBucket: userArguments.targetBucket } }),
});

export const distributedMap = distributedMapHandler({
  driver,
  operation: (batchInput) => ({ copy: { targetBucket: String(batchInput.target) } }),
});

const pack = packShardHandlers({ driver });
export const packPlan = pack.plan;
export const packShard = pack.shard;
export const packFinish = pack.finish;
export const packCancel = pack.cancel;
