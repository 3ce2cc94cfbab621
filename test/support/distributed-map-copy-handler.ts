/**
 * The item processor the Distributed Map stand-in test deploys: `distributedMapHandler` copying each item to
 * `BatchInput.target`, on the fs driver at `BJ_DMAP_ROOT` (shared by every worker process).
 */

import { distributedMapHandler } from '../../src/aws/distributed-map.js';
import { fsDriver } from '../../src/drivers/fs.js';

export const handler = distributedMapHandler({
  driver: fsDriver({ root: process.env.BJ_DMAP_ROOT as string }),
  operation: (input) => ({ copy: { targetBucket: String(input.target) } }),
  retry: { attempts: 1 },
});
