/**
 * The files an ESM build file imports, transitively (static imports and re-exports; with `dynamic`, also the local
 * chunks it loads with `import("./…")` on first use), and the bare specifiers.
 */

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function esmGraph(entry: string, options?: { dynamic?: boolean }): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else bare.add(spec);
    }
    if (options?.dynamic) {
      // Not `typeof import('./x.js')`: a JSDoc type that bundled code keeps in a comment.
      for (const m of text.matchAll(/(?<!typeof\s+)\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        visit(resolve(dirname(file), m[1] as string));
      }
    }
  };
  visit(entry);
  return { files: [...seen], bare };
}
