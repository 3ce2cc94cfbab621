/**
 * The outside programs a test runs (archive readers): whether each is here, and `needTools()`, which skips the
 * running test with a note naming what is missing and the command that adds it. The global setup installs the
 * missing ones where it can (root with apt-get) and prints one summary of what is still missing at the end; with
 * `READERS_REQUIRED=1` (CI) it fails the run instead, so in CI no reader check is ever skipped.
 */

import { TestRunner } from 'vitest';
import { installCommand, hasTool as present, type Tool, toolNamed } from '../../scripts/test-tools.mjs';

export type ToolName = 'unzip' | 'zip' | '7z' | 'bsdtar' | 'python3' | 'java' | 'tar' | 'gzip' | 'tmux';

const known = new Map<ToolName, boolean>();

/** Whether `name` is installed (checked once per worker). */
export function hasTool(name: ToolName): boolean {
  let have = known.get(name);
  if (have === undefined) {
    have = present(toolNamed(name));
    known.set(name, have);
  }
  return have;
}

/** The tools of `names` that are missing, with the command that adds each. */
export function missingNotes(names: readonly ToolName[]): string[] {
  return names
    .filter((n) => !hasTool(n))
    .map((n) => {
      const tool: Tool = toolNamed(n);
      return `${n} (${installCommand(tool)})`;
    });
}

/**
 * Inside a test: skips it when any of `names` is missing, saying which and how to add them. With
 * `READERS_REQUIRED=1` it throws instead (the global setup has already failed the run in that case).
 */
export function needTools(...names: ToolName[]): void {
  const missing = missingNotes(names);
  if (missing.length === 0) return;
  const note = `needs ${missing.join(', ')}`;
  if (process.env.READERS_REQUIRED === '1') throw new Error(`READERS_REQUIRED=1, but this test ${note}`);
  const test = TestRunner.getCurrentTest();
  if (!test) throw new Error(`not inside a test, and it ${note}`);
  test.context.skip(note);
}
