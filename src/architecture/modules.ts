/**
 * Small fprop/bprop modules for non-linear energies E(W, Y, X) on
 * Float64Array vectors.
 *
 * Every module has `forward(inputs) → output` and `backward(dOut) → dInputs`;
 * `backward` uses what the last `forward` cached, so call it right after the
 * matching `forward`, and give a module instance only one place in a graph
 * (a weight-shared siamese branch needs two forward/backward pairs in turn).
 * `backward` ADDS parameter gradients into each parameter's `grad`.
 *
 * Outputs and input gradients are buffers owned by the module and reused by
 * the next call: copy them if they must outlive it.
 */
import type { Rng } from "../core/rng.ts";

/** A parameter block: values and the gradient accumulated into them. */
export interface Param {
  readonly name: string;
  readonly value: Float64Array;
  readonly grad: Float64Array;
}

export interface Module {
  forward(inputs: readonly Float64Array[]): Float64Array;
  backward(dOut: Float64Array): Float64Array[];
  params(): Param[];
}

function param(name: string, n: number): Param {
  return { name, value: new Float64Array(n), grad: new Float64Array(n) };
}

/** Zero the gradients of every parameter of `modules`. */
export function zeroGrad(modules: readonly Module[]): void {
  for (const m of modules) for (const p of m.params()) p.grad.fill(0);
}

/**
 * Plain SGD step: value -= lr · (grad + decay · value), for every parameter
 * of `modules`; the L2 decay applies to weight matrices ("W") only, never to
 * biases or embedding tables.
 */
export function sgdStep(modules: readonly Module[], lr: number, decay = 0): void {
  for (const m of modules)
    for (const p of m.params()) {
      const v = p.value;
      const g = p.grad;
      const d = p.name === "W" ? decay : 0;
      for (let i = 0; i < v.length; i++) v[i] = v[i]! - lr * (g[i]! + d * v[i]!);
    }
}

/** y = W x + b, W stored row-major nOut × nIn; init U[−s, s], s = 1/√nIn. */
export class Linear implements Module {
  readonly W: Param;
  readonly b: Param;
  private x: Float64Array;
  private readonly y: Float64Array;
  private readonly dx: Float64Array;

  readonly nIn: number;
  readonly nOut: number;

  constructor(nIn: number, nOut: number, rng: Rng, scale = 1 / Math.sqrt(nIn)) {
    this.nIn = nIn;
    this.nOut = nOut;
    this.W = param("W", nIn * nOut);
    this.b = param("b", nOut);
    for (let i = 0; i < this.W.value.length; i++) this.W.value[i] = (2 * rng.next() - 1) * scale;
    for (let i = 0; i < nOut; i++) this.b.value[i] = (2 * rng.next() - 1) * scale;
    this.x = new Float64Array(nIn);
    this.y = new Float64Array(nOut);
    this.dx = new Float64Array(nIn);
  }

  forward(inputs: readonly Float64Array[]): Float64Array {
    const x = inputs[0]!;
    this.x = x;
    const W = this.W.value;
    const b = this.b.value;
    const nIn = this.nIn;
    for (let o = 0; o < this.nOut; o++) {
      const row = o * nIn;
      let s = b[o]!;
      for (let i = 0; i < nIn; i++) s += W[row + i]! * x[i]!;
      this.y[o] = s;
    }
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const W = this.W.value;
    const gW = this.W.grad;
    const gb = this.b.grad;
    const x = this.x;
    const dx = this.dx;
    const nIn = this.nIn;
    dx.fill(0);
    for (let o = 0; o < this.nOut; o++) {
      const d = dOut[o]!;
      if (d === 0) continue;
      const row = o * nIn;
      gb[o] = gb[o]! + d;
      for (let i = 0; i < nIn; i++) {
        gW[row + i] = gW[row + i]! + d * x[i]!;
        dx[i] = dx[i]! + d * W[row + i]!;
      }
    }
    return [dx];
  }

  params(): Param[] {
    return [this.W, this.b];
  }
}

/**
 * Table lookup: input = integer ids (stored in a Float64Array), output = the
 * concatenation of their rows (each `dim` long). Init N(0, scale²). The ids
 * get a zero gradient (they are not differentiable).
 */
export class Embedding implements Module {
  readonly table: Param;
  private ids: Int32Array = new Int32Array(0);
  private y: Float64Array = new Float64Array(0);
  private dIds: Float64Array = new Float64Array(0);

  readonly vocab: number;
  readonly dim: number;

  constructor(vocab: number, dim: number, rng: Rng, scale = 1) {
    this.vocab = vocab;
    this.dim = dim;
    this.table = param("table", vocab * dim);
    for (let i = 0; i < this.table.value.length; i++) this.table.value[i] = rng.normal() * scale;
  }

  forward(inputs: readonly Float64Array[]): Float64Array {
    const raw = inputs[0]!;
    const n = raw.length;
    if (this.ids.length !== n) {
      this.ids = new Int32Array(n);
      this.y = new Float64Array(n * this.dim);
      this.dIds = new Float64Array(n);
    }
    const t = this.table.value;
    const dim = this.dim;
    for (let k = 0; k < n; k++) {
      const id = raw[k]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocab)
        throw new RangeError(`Embedding: expected an integer id in [0, ${this.vocab}), got ${id}`);
      this.ids[k] = id;
      const src = id * dim;
      const dst = k * dim;
      for (let j = 0; j < dim; j++) this.y[dst + j] = t[src + j]!;
    }
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const g = this.table.grad;
    const dim = this.dim;
    for (let k = 0; k < this.ids.length; k++) {
      const dst = this.ids[k]! * dim;
      const src = k * dim;
      for (let j = 0; j < dim; j++) g[dst + j] = g[dst + j]! + dOut[src + j]!;
    }
    return [this.dIds];
  }

  params(): Param[] {
    return [this.table];
  }
}

/** Base of the element-wise non-linearities. */
abstract class Pointwise implements Module {
  protected x: Float64Array = new Float64Array(0);
  protected y: Float64Array = new Float64Array(0);
  protected dx: Float64Array = new Float64Array(0);

  protected size(n: number): void {
    if (this.y.length !== n) {
      this.y = new Float64Array(n);
      this.dx = new Float64Array(n);
    }
  }

  abstract forward(inputs: readonly Float64Array[]): Float64Array;
  abstract backward(dOut: Float64Array): Float64Array[];

  params(): Param[] {
    return [];
  }
}

export class Tanh extends Pointwise {
  forward(inputs: readonly Float64Array[]): Float64Array {
    const x = inputs[0]!;
    this.size(x.length);
    for (let i = 0; i < x.length; i++) this.y[i] = Math.tanh(x[i]!);
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const y = this.y;
    for (let i = 0; i < y.length; i++) this.dx[i] = dOut[i]! * (1 - y[i]! * y[i]!);
    return [this.dx];
  }
}

export class Sigmoid extends Pointwise {
  forward(inputs: readonly Float64Array[]): Float64Array {
    const x = inputs[0]!;
    this.size(x.length);
    for (let i = 0; i < x.length; i++) this.y[i] = 1 / (1 + Math.exp(-x[i]!));
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const y = this.y;
    for (let i = 0; i < y.length; i++) this.dx[i] = dOut[i]! * y[i]! * (1 - y[i]!);
    return [this.dx];
  }
}

export class ReLU extends Pointwise {
  forward(inputs: readonly Float64Array[]): Float64Array {
    const x = inputs[0]!;
    this.x = x;
    this.size(x.length);
    for (let i = 0; i < x.length; i++) this.y[i] = Math.max(x[i]!, 0);
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const x = this.x;
    for (let i = 0; i < x.length; i++) this.dx[i] = x[i]! > 0 ? dOut[i]! : 0;
    return [this.dx];
  }
}

/** Element-wise sum of k same-length inputs (k scalar energies → their sum). */
export class Sum implements Module {
  private y: Float64Array = new Float64Array(0);
  private k = 0;

  forward(inputs: readonly Float64Array[]): Float64Array {
    const n = inputs[0]!.length;
    if (this.y.length !== n) this.y = new Float64Array(n);
    this.y.fill(0);
    this.k = inputs.length;
    for (const x of inputs) {
      if (x.length !== n) throw new RangeError(`Sum: expected length ${n}, got ${x.length}`);
      for (let i = 0; i < n; i++) this.y[i] = this.y[i]! + x[i]!;
    }
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const out: Float64Array[] = [];
    for (let j = 0; j < this.k; j++) out.push(dOut.slice());
    return out;
  }

  params(): Param[] {
    return [];
  }
}

/** Base of the two-input, scalar-output comparators. */
abstract class Pair implements Module {
  protected a: Float64Array = new Float64Array(0);
  protected b: Float64Array = new Float64Array(0);
  protected readonly y = new Float64Array(1);
  protected da: Float64Array = new Float64Array(0);
  protected db: Float64Array = new Float64Array(0);

  protected take(inputs: readonly Float64Array[]): void {
    const a = inputs[0]!;
    const b = inputs[1]!;
    if (a.length !== b.length)
      throw new RangeError(`expected inputs of equal length, got ${a.length} and ${b.length}`);
    this.a = a;
    this.b = b;
    if (this.da.length !== a.length) {
      this.da = new Float64Array(a.length);
      this.db = new Float64Array(a.length);
    }
  }

  abstract forward(inputs: readonly Float64Array[]): Float64Array;
  abstract backward(dOut: Float64Array): Float64Array[];

  params(): Param[] {
    return [];
  }
}

/** E = Σ |a − b|  (sub-gradient sign(0) = 0). */
export class L1Distance extends Pair {
  forward(inputs: readonly Float64Array[]): Float64Array {
    this.take(inputs);
    let s = 0;
    for (let i = 0; i < this.a.length; i++) s += Math.abs(this.a[i]! - this.b[i]!);
    this.y[0] = s;
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const d = dOut[0]!;
    for (let i = 0; i < this.a.length; i++) {
      const g = d * Math.sign(this.a[i]! - this.b[i]!);
      this.da[i] = g;
      this.db[i] = -g;
    }
    return [this.da, this.db];
  }
}

/** E = Σ (a − b)²  (no ½). */
export class SquaredL2Distance extends Pair {
  forward(inputs: readonly Float64Array[]): Float64Array {
    this.take(inputs);
    let s = 0;
    for (let i = 0; i < this.a.length; i++) {
      const r = this.a[i]! - this.b[i]!;
      s += r * r;
    }
    this.y[0] = s;
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const d = dOut[0]!;
    for (let i = 0; i < this.a.length; i++) {
      const g = 2 * d * (this.a[i]! - this.b[i]!);
      this.da[i] = g;
      this.db[i] = -g;
    }
    return [this.da, this.db];
  }
}

/** E = Σ a·b. */
export class Dot extends Pair {
  forward(inputs: readonly Float64Array[]): Float64Array {
    this.take(inputs);
    let s = 0;
    for (let i = 0; i < this.a.length; i++) s += this.a[i]! * this.b[i]!;
    this.y[0] = s;
    return this.y;
  }

  backward(dOut: Float64Array): Float64Array[] {
    const d = dOut[0]!;
    for (let i = 0; i < this.a.length; i++) {
      this.da[i] = d * this.b[i]!;
      this.db[i] = d * this.a[i]!;
    }
    return [this.da, this.db];
  }
}

/** A chain of single-input modules. */
export class Sequential implements Module {
  readonly layers: readonly Module[];

  constructor(layers: readonly Module[]) {
    this.layers = layers;
  }

  forward(inputs: readonly Float64Array[]): Float64Array {
    let h = inputs[0]!;
    for (const l of this.layers) h = l.forward([h]);
    return h;
  }

  backward(dOut: Float64Array): Float64Array[] {
    let d = dOut;
    for (let i = this.layers.length - 1; i >= 0; i--) d = this.layers[i]!.backward(d)[0]!;
    return [d];
  }

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }
}
