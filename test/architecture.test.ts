/**
 * The layering of src/, checked on the import graph (type-only imports included, as madge counts them): no import
 * cycle anywhere, the engine imports neither drivers nor jobs, drivers import no jobs, the shared plumbing in
 * internal/ imports only the root modules, and those (errors, options, defaults) import nothing from a folder. CONTRIBUTING.md names this test as the cycle check.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(__dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Each file (relative to src/) and the src/ files it imports or re-exports, type-only ones too. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gms)) {
      deps.push(relative(src, resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))));
    }
    for (const m of text.matchAll(/^import\s+'(\.[^']+)'/gm)) {
      deps.push(relative(src, resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))));
    }
    graph.set(relative(src, file), deps);
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan), or of a file that imports itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  const graph = importGraph();

  it('reads the whole of src/', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('index.ts')).toContain('client.ts');
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
    // The check can fail: a graph with a cycle in it is reported.
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', ['a.ts']],
          ['c.ts', []],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts']]);
  });

  it('keeps the layers: internal/ under all, the engine imports no driver or job, drivers no job', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        const up =
          (file.startsWith('engine/') && (dep.startsWith('drivers/') || dep.startsWith('jobs/'))) ||
          (file.startsWith('drivers/') && dep.startsWith('jobs/')) ||
          (['errors.ts', 'options.ts', 'defaults.ts'].includes(file) && dep.includes('/')) ||
          // The shared plumbing (abort and stream helpers) sits under every layer.
          (file.startsWith('internal/') && dep.includes('/') && !dep.startsWith('internal/'));
        if (up) wrong.push(`${file} -> ${dep}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps every file under 450 lines, or says at its top why not', () => {
    const long: string[] = [];
    for (const file of graph.keys()) {
      const text = readFileSync(join(src, file), 'utf8');
      const lines = text.split('\n').length - 1;
      if (lines > 450 && !/^\/\/ Over 450 lines: \S/.test(text)) long.push(`${file} (${lines} lines)`);
    }
    expect(long).toEqual([]);
  });
});
