import { defineConfig } from 'tsup';

const aws = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'];

// One entry per public export path (package.json "exports"). test/package/exports.test.ts checks the two agree.
// The second build is the command line, package.json "bin": ESM only, with its shebang.
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'engine/index': 'src/engine/index.ts',
      aws: 'src/aws.ts',
      'drivers/memory': 'src/drivers/memory.ts',
      'drivers/fs': 'src/drivers/fs.ts',
      'drivers/s3': 'src/drivers/s3.ts',
    },
    format: ['esm', 'cjs'],
    // Members tagged @internal (the job layer's own hooks, and _simulateCrash for tests) stay out of the shipped types.
    dts: { compilerOptions: { stripInternal: true } },
    // The command line's build writes cli.js at the same time: it is not this build's to remove.
    clean: ['!cli.js', '!cli.js.map'],
    sourcemap: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
    // The AWS SDK is an optional peer: never bundled, only loaded by drivers/s3.
    external: aws,
    // p-limit (and its yocto-queue) ship ESM only; bundling them keeps the CJS build loadable on every Node 20, not
    // just on 20.19+ where require() of ESM works.
    // hash-wasm and hyparquet are bundled too, into a chunk of its own that the checksum code imports on first use: a Workers bundle
    // of the root entry then resolves without it.
    // @noble/ciphers and @noble/hashes (the portable AES backend's AES, HMAC-SHA1 and PBKDF2, in a chunk of their own
    // that aes.ts imports on first use; MD5 where there is no node:crypto) ship ESM only, and the engine and the
    // memory driver must load on workerd as plain modules with no bare import: bundled.
    noExternal: ['p-limit', 'yocto-queue', 'hash-wasm', 'hyparquet', '@noble/ciphers', '@noble/hashes'],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    banner: { js: '#!/usr/bin/env node' },
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    // One file: the library's chunks stay the library's (the CLI is a separate program that uses them).
    splitting: false,
    treeshake: true,
    external: [...aws, 'cli-progress', 'fast-xml-parser'],
    noExternal: ['p-limit', 'yocto-queue', 'hash-wasm', 'hyparquet', '@noble/ciphers', '@noble/hashes'],
  },
]);
