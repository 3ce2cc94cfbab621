/**
 * Which bytes of a concatenation are copied server-side and which pass through the client: an exact dynamic
 * programme over the sources, used by {@link planConcat}. Pure arithmetic, no I/O.
 *
 * The model (see docs/jobs/concat.md for the proof sketch): a plan copies, from each source it copies at all, one
 * contiguous interval `[head, length - tail)`, and uploads everything else (the "gaps" between copied intervals).
 * Every gap but the last must be empty or at least `minPartSize`; a copied interval must stay at least
 * `minPartSize` (or 1 byte for the last source, whose last copy part may be short). A gap of `0 < M < min` bytes of
 * small sources is topped up to `min` by borrowing the tail of the copied source before it and the head of the one
 * after it. Cost = bytes uploaded.
 *
 * The state after deciding to copy source `b` is `(cost, rho)`: bytes uploaded so far and how much of `b` can still
 * be lent to the next gap. States form a Pareto front (less cost, more `rho`). Only the nearest copied source before
 * `b` can lend to `b`'s gap (any other has a copyable source of `>= min` bytes in between), which keeps the
 * programme linear in the number of sources times the front size.
 *
 * @module
 */

/** One source as the optimiser sees it. */
export interface ChoiceSource {
  /** Bytes this source contributes to the output. */
  readonly length: number;
  /** A part copy may read it at all (whole, within `maxPartSize`, or ranged where ranges are allowed). */
  readonly copyable: boolean;
  /** A part copy may read a sub-range of it (the object is at least `minRangeCopySourceSize`). */
  readonly rangeable: boolean;
}

/** What to do with each source: copy `[head, length - tail)` of it, or upload it whole. */
export interface Choice {
  readonly copied: readonly boolean[];
  readonly head: readonly number[];
  readonly tail: readonly number[];
  /** Bytes uploaded: the sum of the gaps. */
  readonly uploaded: number;
  /** False when a Pareto front was cut to {@link MAX_FRONT}: `uploaded` is then within the bound, maybe not minimal. */
  readonly exact: boolean;
  /** Bytes of sources no plan can copy (small sources, uncopyable ones): a lower bound on `uploaded`. */
  readonly lowerBound: number;
  /** The proven upper bound on `uploaded` (see {@link chooseCopies}). */
  readonly upperBound: number;
  /** Runs of small sources of `0 < r < min` bytes that need topping up (not counting a run at the very end). */
  readonly shortRuns: number;
}

/**
 * Most states kept per source. Fronts grow only along chains of sources between `min` and `2 × min` bytes separated
 * by short runs (200,000 random such chains never needed more than 5 states); a cut front keeps the cheapest states,
 * the one with the most slack and the guarded greedy state, so the result still meets the upper bound.
 */
export const MAX_FRONT = 64;

interface State {
  readonly cost: number;
  readonly rho: number;
  readonly at: number;
  readonly prev: State | undefined;
  /** Bytes of `at`'s head lent to the gap before it. */
  readonly head: number;
  /** Bytes of `prev.at`'s tail lent to the gap before `at`. */
  readonly tailOfPrev: number;
  /**
   * On the greedy path (copy every source, lend left first, else upload the source that cannot be reached) or
   * dominating it. Never cut, so the result is at most the greedy plan's cost, which the upper bound is proven for.
   */
  guard: boolean;
}

/** Sorts by cost, keeps states with strictly more `rho` than every cheaper one; passes the guard to a dominator. */
function prune(states: State[], maxFront: number): { front: State[]; cut: boolean } {
  states.sort((a, b) => a.cost - b.cost || b.rho - a.rho);
  const front: State[] = [];
  for (const s of states) {
    const last = front[front.length - 1];
    if (last && s.rho <= last.rho) {
      // Dominated: `last` (or an earlier state) costs no more and can lend at least as much.
      if (s.guard) {
        const dominator = front.find((f) => f.cost <= s.cost && f.rho >= s.rho) as State;
        dominator.guard = true;
      }
      continue;
    }
    front.push(s);
  }
  if (front.length <= maxFront) return { front, cut: false };
  const kept = front.slice(0, maxFront - 2);
  const guard = front.find((s) => s.guard);
  const top = front[front.length - 1] as State;
  if (guard && !kept.includes(guard) && guard !== top) kept.push(guard);
  kept.push(top);
  return { front: kept, cut: true };
}

/**
 * Chooses the copied interval of every source so that the bytes uploaded are minimal.
 *
 * **Bound.** Let `LB` be the bytes of sources that cannot be copied (shorter than `min` and not the last source, or
 * not copyable). Call a maximal run of such sources between two copyable ones (or before the first) *short* when it
 * holds `0 < r < min` bytes. Then `LB <= uploaded <= LB + Σ_short max(2·min − r − 1, minRangeCopySourceSize − 1)`;
 * and a short run next to a copyable source with `min − r` bytes to spare costs only `min − r`. Proof sketch: the
 * greedy plan (copy every copyable source; top each short run up from the tail before it, then the head after it;
 * when they cannot spare enough, upload the source after it whole) stays within the bound, since a source that
 * cannot spare `min − r` bytes holds fewer than `2·min − r` (or, when it cannot be ranged, fewer than
 * `minRangeCopySourceSize`); the programme keeps a state at least as good as the greedy one at every source.
 */
export function chooseCopies(
  sources: readonly ChoiceSource[],
  min: number,
  minRangeCopySourceSize: number,
  /** @internal Tests cut fronts early to exercise the guard. */
  maxFront = MAX_FRONT,
): Choice {
  if (maxFront < 3) throw new TypeError('chooseCopies: maxFront must be at least 3');
  const n = sources.length;
  const start: number[] = new Array(n);
  let total = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    start[i] = total;
    const s = sources[i] as ChoiceSource;
    total += s.length;
    if (s.length > 0) last = i;
  }
  const end = (i: number) => (start[i] as number) + (sources[i] as ChoiceSource).length;
  const isCandidate = (i: number) => {
    const s = sources[i] as ChoiceSource;
    return s.copyable && s.length > 0 && (i === last || s.length >= min);
  };
  const slackOf = (i: number) => {
    const s = sources[i] as ChoiceSource;
    if (!s.rangeable) return 0;
    return i === last ? s.length - 1 : s.length - min;
  };

  // Bounds, from the runs of sources that cannot be copied.
  let lowerBound = 0;
  let upperBound = 0;
  let shortRuns = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const len = (sources[i] as ChoiceSource).length;
    if (len === 0) continue;
    if (!isCandidate(i)) {
      lowerBound += len;
      run += len;
      continue;
    }
    if (run > 0 && run < min) {
      shortRuns++;
      upperBound += Math.max(2 * min - run - 1, minRangeCopySourceSize - 1);
    }
    run = 0;
  }
  upperBound += lowerBound;

  let cut = false;
  let prevCand = -1;
  let prevFront: State[] = [];
  // Cheapest (cost - end) over candidates before prevCand: any of them reaches the next candidate through a gap of
  // at least `min` (prevCand, copyable and >= min bytes, lies in between).
  let far: { value: number; state: State } | undefined;
  let best: { cost: number; state: State | undefined } = { cost: total, state: undefined };

  for (let b = 0; b < n; b++) {
    if (!isCandidate(b)) continue;
    const slack = slackOf(b);
    const S = start[b] as number;
    const states: State[] = [];
    const full = (cost: number, prev: State | undefined): State => ({
      cost,
      rho: slack,
      at: b,
      prev,
      head: 0,
      tailOfPrev: 0,
      guard: false,
    });
    // b is the first copied source: everything before it is one gap.
    let headState: State | undefined;
    if (S === 0 || S >= min) headState = full(S, undefined);
    else if (min - S <= slack) headState = { ...full(min, undefined), rho: slack - (min - S), head: min - S };
    if (headState) states.push(headState);
    if (far) states.push(full(far.value + S, far.state));

    // The greedy path's state at b, or one that dominates it, gets the guard (see State.guard).
    let guarded: State | undefined;
    let guardFull = false;
    if (prevCand < 0) {
      // The first candidate: the greedy path starts with everything before b as one gap.
      guarded = headState;
    } else {
      const M = S - end(prevCand);
      const cheapest = prevFront[0] as State;
      const prevGuard = prevFront.find((s) => s.guard);
      if (M === 0 || M >= min) {
        states.push(full(cheapest.cost + M, cheapest));
        guardFull = true;
      } else {
        const d = min - M;
        for (const s of prevFront) {
          const t = Math.min(s.rho, d);
          const h = d - t;
          if (h > slack) continue;
          const image: State = {
            cost: s.cost + min,
            rho: slack - h,
            at: b,
            prev: s,
            head: h,
            tailOfPrev: t,
            guard: false,
          };
          states.push(image);
          if (s === prevGuard) guarded = image;
        }
        // No guard before: the greedy path uploaded prevCand whole, so it reaches b through a gap of >= min bytes.
        if (!prevGuard) guardFull = true;
      }
    }
    if (states.length === 0) {
      // Only possible for the first candidate, when the few bytes before it cannot be topped up from it: b is
      // uploaded, and every later candidate has more than `min` bytes before it.
      continue;
    }
    if (guardFull) {
      // The greedy state has full slack here; the cheapest full-slack state costs no more.
      let cheapestFull: State | undefined;
      for (const s of states) if (s.rho === slack && (!cheapestFull || s.cost < cheapestFull.cost)) cheapestFull = s;
      guarded = cheapestFull;
    }
    if (guarded) guarded.guard = true;
    const pruned = prune(states, maxFront);
    cut ||= pruned.cut;

    far = foldFar(far, prevCand, prevFront, end);
    prevCand = b;
    prevFront = pruned.front;
    const finalGap = b === last ? 0 : total - end(b);
    const top = prevFront[0] as State;
    if (top.cost + finalGap < best.cost) best = { cost: top.cost + finalGap, state: top };
  }

  const copied: boolean[] = new Array(n).fill(false);
  const head: number[] = new Array(n).fill(0);
  const tail: number[] = new Array(n).fill(0);
  for (let s = best.state; s; s = s.prev) {
    copied[s.at] = true;
    head[s.at] = s.head;
    if (s.prev) tail[s.prev.at] = s.tailOfPrev;
  }
  return { copied, head, tail, uploaded: best.cost, exact: !cut, lowerBound, upperBound, shortRuns };
}

/** Adds the cheapest state of `cand` (as cost minus its end offset) to the running minimum. */
function foldFar(
  far: { value: number; state: State } | undefined,
  cand: number,
  front: readonly State[],
  end: (i: number) => number,
): { value: number; state: State } | undefined {
  if (cand < 0 || front.length === 0) return far;
  const cheapest = front[0] as State;
  const value = cheapest.cost - end(cand);
  return !far || value < far.value ? { value, state: cheapest } : far;
}
