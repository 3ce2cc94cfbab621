/**
 * What every command gets: the streams, the environment, and a reporter factory.
 *
 * @module
 */

import type { Reporter, Streams } from '../report.js';

export interface CommandContext {
  readonly streams: Streams;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The reporter for `command`: a live line on a terminal, JSON lines otherwise or with `json`. */
  reporter(command: string, json: boolean | undefined): Reporter;
}
