/** A typed array the inference workspaces grow (never shrink). */
export type TypedArray = Float64Array | Int32Array | Int8Array | Uint8Array;

/**
 * A typed array of `a`'s kind with at least n entries: `a` itself when long
 * enough, else a new zeroed one of max(n, 2·length) entries (contents are not
 * kept). For workspace set-up, never inside a hot loop.
 */
export function grow<T extends TypedArray>(a: T, n: number): T {
  if (a.length >= n) return a;
  const Ctor = a.constructor as new (length: number) => T;
  return new Ctor(Math.max(n, a.length * 2));
}

/** A copy of `a` with exactly n entries (the first min(n, length) kept, the rest zero). */
export function resized<T extends TypedArray>(a: T, n: number): T {
  const Ctor = a.constructor as new (length: number) => T;
  const b = new Ctor(n);
  b.set(a.length <= n ? a : (a.subarray(0, n) as T));
  return b;
}
