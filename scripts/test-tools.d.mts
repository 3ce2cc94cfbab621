/** Types for scripts/test-tools.mjs (plain JavaScript, so that it runs before `npm ci`). */

export type ToolGroup = 'readers' | 's3' | 'bench';

export interface Tool {
  /** What tests and messages call it. */
  readonly name: string;
  readonly group: ToolGroup;
  /** One line for people. */
  readonly what: string;
  /** Every command that must be on PATH (or an absolute path). */
  readonly commands: readonly string[];
  /** The Debian packages that bring them. */
  readonly packages: readonly string[];
  readonly probe?: { readonly args: readonly string[]; readonly match: RegExp };
}

export const TOOLS: readonly Tool[];
export const GROUPS: readonly ToolGroup[];
export function hasTool(tool: Tool): boolean;
export function toolsOf(groups: readonly ToolGroup[]): Tool[];
export function toolNamed(name: string): Tool;
export function missingTools(tools: readonly Tool[]): Tool[];
/** Linux, root, apt-get on PATH, and not switched off with `BUCKETJOBS_INSTALL_TOOLS=0`. */
export function canInstall(): boolean;
/** The exact command that adds the tool (Debian and Ubuntu). */
export function installCommand(tool: Tool): string;
/** One line per tool: its name, what it is, and the command that adds it. */
export function describeMissing(tools: readonly Tool[]): string[];
/** apt-get installs the missing ones, one line per step with its time; returns those still missing. */
export function installTools(
  tools: readonly Tool[],
  opts?: { readonly log?: (line: string) => void; readonly sudo?: boolean },
): Tool[];
