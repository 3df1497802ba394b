/**
 * Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) for smooth
 * objectives over Float64Array parameters: the two-loop recursion over the
 * last m pairs (s, y), and a backtracking line search on the Armijo
 * condition f(x + αd) ≤ f(x) + c₁·α·∇f·d starting from α = 1 (α = 1/‖g‖ on
 * the first iteration), each retry at the minimizer of the quadratic fitted to
 * f(x), the slope and the rejected value (kept within [0.1, 0.5] of the last
 * step). A pair with sᵀy ≤ 0 is not stored, so the implied
 * Hessian stays positive definite.
 *
 * Stops after `maxIterations`, when ‖g‖ ≤ epsilon·max(1, ‖x‖), when the
 * objective improved by less than `delta` (relative) over the last `period`
 * iterations (CRFsuite's test), when the line search fails, or when
 * `onIteration` returns true.
 */
export interface LbfgsOptions {
  maxIterations: number;
  /** pairs kept */
  m: number;
  epsilon: number;
  period: number;
  delta: number;
  maxLineSearch: number;
  /**
   * Called after every iteration; `state()` gives the optimizer's whole state
   * (views, valid until the next iteration) for a checkpoint. True stops.
   */
  onIteration?: (
    it: number,
    f: number,
    x: Float64Array,
    gnorm: number,
    state: () => LbfgsState,
  ) => boolean | undefined;
  /** Continue from a saved state (x must hold the state's point); `it` counts on from it. */
  resume?: LbfgsState;
}

/**
 * Everything L-BFGS carries from one iteration to the next: the iteration
 * count, f and ∇f at the current point, the stored pairs (s, y) and
 * ρ = 1/sᵀy in their ring slots, and the objective's history (the delta test).
 */
export interface LbfgsState {
  it: number;
  evaluations: number;
  f: number;
  g: Float64Array;
  /** slot → (s, y) for the `stored` slots before `head` */
  S: Map<number, Float64Array>;
  Y: Map<number, Float64Array>;
  rho: Float64Array;
  head: number;
  stored: number;
  history: number[];
}

export const LBFGS_DEFAULTS: LbfgsOptions = {
  maxIterations: 100,
  m: 6,
  epsilon: 1e-5,
  period: 10,
  delta: 1e-5,
  maxLineSearch: 20,
};

export interface LbfgsResult {
  f: number;
  iterations: number;
  evaluations: number;
  reason: "max-iterations" | "gradient" | "delta" | "line-search" | "stopped";
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Minimize f over x in place; `fg(x, g)` returns f(x) and writes ∇f(x) into g. */
export function lbfgs(
  x: Float64Array,
  fg: (x: Float64Array, g: Float64Array) => number,
  options: Partial<LbfgsOptions> = {},
): LbfgsResult {
  const o = { ...LBFGS_DEFAULTS, ...options };
  const n = x.length;
  const m = o.m;
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let stored = 0;
  let head = 0; // next slot to overwrite
  const g = new Float64Array(n);
  const gNew = new Float64Array(n);
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  let f: number;
  let evaluations: number;
  let history: number[];
  let it: number;
  const r = o.resume;
  if (r) {
    if (r.g.length !== n || r.rho.length !== m || r.head >= m || r.stored > m)
      throw new Error("lbfgs: the saved state does not fit this problem");
    f = r.f;
    evaluations = r.evaluations;
    history = r.history.slice();
    it = r.it;
    g.set(r.g);
    rho.set(r.rho);
    head = r.head;
    stored = r.stored;
    for (const [k, v] of r.S) S[k]!.set(v);
    for (const [k, v] of r.Y) Y[k]!.set(v);
  } else {
    f = fg(x, g);
    evaluations = 1;
    history = [f];
    it = 0;
  }
  const state = (): LbfgsState => {
    const Sm = new Map<number, Float64Array>();
    const Ym = new Map<number, Float64Array>();
    for (let j = 0; j < stored; j++) {
      const k = (head - 1 - j + m) % m;
      Sm.set(k, S[k]!);
      Ym.set(k, Y[k]!);
    }
    return { it, evaluations, f, g, S: Sm, Y: Ym, rho, head, stored, history };
  };
  for (;;) {
    const gnorm = Math.sqrt(dot(g, g));
    const xnorm = Math.sqrt(dot(x, x));
    if (gnorm <= o.epsilon * Math.max(1, xnorm))
      return { f, iterations: it, evaluations, reason: "gradient" };
    if (it >= o.maxIterations) return { f, iterations: it, evaluations, reason: "max-iterations" };
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let j = 0; j < stored; j++) {
      const k = (head - 1 - j + m) % m;
      const a = rho[k]! * dot(S[k]!, d);
      alpha[k] = a;
      const yk = Y[k]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * yk[i]!;
    }
    if (stored > 0) {
      const k = (head - 1 + m) % m;
      const yy = dot(Y[k]!, Y[k]!);
      const gamma = yy > 0 ? 1 / (rho[k]! * yy) : 1;
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let j = stored - 1; j >= 0; j--) {
      const k = (head - 1 - j + m) % m;
      const b = rho[k]! * dot(Y[k]!, d);
      const sk = S[k]!;
      const a = alpha[k]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + (a - b) * sk[i]!;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = -gnorm * gnorm;
      stored = 0;
    }
    // Backtracking line search on the Armijo condition.
    let step = it === 0 && stored === 0 ? 1 / Math.max(gnorm, 1e-12) : 1;
    let fNew = Number.POSITIVE_INFINITY;
    let ok = false;
    for (let ls = 0; ls < o.maxLineSearch; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * d[i]!;
      fNew = fg(xNew, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) {
        ok = true;
        break;
      }
      // Minimizer of the quadratic through f, the slope at 0 and fNew, kept in [0.1, 0.5]·step.
      const q = Number.isFinite(fNew)
        ? (-slope * step * step) / (2 * (fNew - f - slope * step))
        : 0;
      step = Math.min(0.5 * step, Math.max(0.1 * step, q));
    }
    if (!ok) return { f, iterations: it, evaluations, reason: "line-search" };
    // Store the pair s = xNew − x, y = gNew − g when the curvature is positive.
    const sk = S[head]!;
    const yk = Y[head]!;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      const si = xNew[i]! - x[i]!;
      const yi = gNew[i]! - g[i]!;
      sk[i] = si;
      yk[i] = yi;
      sy += si * yi;
    }
    if (sy > 1e-12) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    it++;
    history.push(f);
    if (o.onIteration?.(it, f, x, Math.sqrt(dot(g, g)), state))
      return { f, iterations: it, evaluations, reason: "stopped" };
    if (history.length > o.period) {
      const past = history[history.length - 1 - o.period]!;
      if ((past - f) / Math.max(Math.abs(f), 1e-12) < o.delta)
        return { f, iterations: it, evaluations, reason: "delta" };
    }
  }
}
