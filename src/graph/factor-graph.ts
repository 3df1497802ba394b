import { NadirError } from "../core/errors.ts";
import { ndarray } from "../core/ndarray.ts";

/** A read-only shaped view over a factor's flat energy table (an ndarray). */
export interface TableView {
  readonly shape: number[];
  readonly stride: number[];
  readonly offset: number;
  readonly data: Float64Array;
  /** The energy at the given labels of the scope's variables. */
  get(...index: number[]): number;
}

/**
 * A factor graph over discrete variables with finite domains.
 *
 *   E(y) = Σ_f table_f[ Σ_j y[scope_f[j]] · strides_f[j] ]
 *
 * Each factor's energy table is a flat Float64Array, row-major over the
 * factor's scope (the last scope variable varies fastest), so a factor over
 * (a, b) with domains (3, 4) stores entry (ya, yb) at `ya·4 + yb`. Unary and
 * pairwise factors are factors of arity 1 and 2; a factor of arity 0 is a
 * constant (its table has one entry).
 *
 * Graphs are made by {@link FactorGraphBuilder}, which validates everything
 * once; a built graph is frozen and trusted by every backend. Its typed arrays
 * cannot be frozen by JavaScript: treat them as read-only.
 *
 * Besides one {@link Factor} object per factor, the graph exposes flat
 * concatenated arrays for hot loops (`factorScopePtr`/`factorScopeVars`/
 * `factorScopeStrides`, `factorTableOffset`/`tables`) and the per-variable
 * factor adjacency in CSR form (`varFactorPtr`/`varFactorIds`/`varFactorSlot`).
 * A factor's `scope`, `strides` and `table` are subarray views of those.
 */

/** One factor: its scope, the domain sizes along it, strides and energy table. */
export class Factor {
  /** Index of the factor in its graph. */
  readonly id: number;
  /** Variable ids, in table order (distinct). */
  readonly scope: Int32Array;
  /** Domain size of each scope variable. */
  readonly shape: Int32Array;
  /** Row-major strides: `strides[arity-1] = 1`, `strides[j] = strides[j+1]·shape[j+1]`. */
  readonly strides: Int32Array;
  /** Energies, `∏ shape` entries. */
  readonly table: Float64Array;

  /** @internal made by {@link FactorGraphBuilder.build} */
  constructor(
    id: number,
    scope: Int32Array,
    shape: Int32Array,
    strides: Int32Array,
    table: Float64Array,
  ) {
    this.id = id;
    this.scope = scope;
    this.shape = shape;
    this.strides = strides;
    this.table = table;
    Object.freeze(this);
  }

  get arity(): number {
    return this.scope.length;
  }

  /**
   * An ndarray view of the table, shape [d0, d1, …] (shares memory; do not
   * write). Typed as the part of ndarray's interface nadir promises, so the
   * public types do not depend on ndarray's.
   */
  view(): TableView {
    return ndarray(this.table, Array.from(this.shape), Array.from(this.strides), 0);
  }

  /** Table index of the labeling `y` (a full labeling of the graph). */
  index(y: ArrayLike<number>): number {
    let idx = 0;
    const scope = this.scope;
    const strides = this.strides;
    for (let j = 0; j < scope.length; j++) idx += y[scope[j]!]! * strides[j]!;
    return idx;
  }
}

/** The arrays a {@link FactorGraph} is made of (all owned by the graph). */
interface FactorGraphData {
  domains: Int32Array;
  factorScopePtr: Int32Array;
  factorScopeVars: Int32Array;
  factorScopeStrides: Int32Array;
  factorTableOffset: Int32Array;
  tables: Float64Array;
}

export class FactorGraph {
  readonly kind = "graph" as const;
  /** Number of variables. */
  readonly nVars: number;
  /** Domain size of each variable (≥ 1). */
  readonly domains: Int32Array;
  /** Largest domain size (0 for a graph without variables). Row stride of `Constraints.allowed`. */
  readonly maxDomain: number;
  /** Number of factors. */
  readonly nFactors: number;
  readonly factors: readonly Factor[];

  /** Factor f's scope is `factorScopeVars[factorScopePtr[f] .. factorScopePtr[f+1])`. */
  readonly factorScopePtr: Int32Array;
  readonly factorScopeVars: Int32Array;
  /** Stride of each scope entry, parallel to `factorScopeVars`. */
  readonly factorScopeStrides: Int32Array;
  /** Factor f's table is `tables[factorTableOffset[f] .. factorTableOffset[f+1])`. */
  readonly factorTableOffset: Int32Array;
  readonly tables: Float64Array;

  /** Variable v touches factors `varFactorIds[varFactorPtr[v] .. varFactorPtr[v+1])` (ascending). */
  readonly varFactorPtr: Int32Array;
  readonly varFactorIds: Int32Array;
  /** Position of v inside the scope of the factor at the same CSR slot. */
  readonly varFactorSlot: Int32Array;

  /** @internal made by {@link FactorGraphBuilder.build}, which validated the data. */
  constructor(d: FactorGraphData) {
    const nVars = d.domains.length;
    const nFactors = d.factorScopePtr.length - 1;
    this.nVars = nVars;
    this.domains = d.domains;
    let maxDomain = 0;
    for (let v = 0; v < nVars; v++) if (d.domains[v]! > maxDomain) maxDomain = d.domains[v]!;
    this.maxDomain = maxDomain;
    this.nFactors = nFactors;
    this.factorScopePtr = d.factorScopePtr;
    this.factorScopeVars = d.factorScopeVars;
    this.factorScopeStrides = d.factorScopeStrides;
    this.factorTableOffset = d.factorTableOffset;
    this.tables = d.tables;

    const factors: Factor[] = new Array(nFactors);
    const degree = new Int32Array(nVars + 1);
    for (let f = 0; f < nFactors; f++) {
      const a = d.factorScopePtr[f]!;
      const b = d.factorScopePtr[f + 1]!;
      const scope = d.factorScopeVars.subarray(a, b);
      const shape = new Int32Array(b - a);
      for (let j = 0; j < b - a; j++) {
        shape[j] = d.domains[scope[j]!]!;
        degree[scope[j]! + 1]!++;
      }
      const table = d.tables.subarray(d.factorTableOffset[f]!, d.factorTableOffset[f + 1]!);
      factors[f] = new Factor(f, scope, shape, d.factorScopeStrides.subarray(a, b), table);
    }
    this.factors = Object.freeze(factors);

    for (let v = 0; v < nVars; v++) degree[v + 1]! += degree[v]!;
    const nnz = degree[nVars]!;
    const ids = new Int32Array(nnz);
    const slots = new Int32Array(nnz);
    const fill = degree.slice(0, nVars);
    for (let f = 0; f < nFactors; f++) {
      const a = d.factorScopePtr[f]!;
      const b = d.factorScopePtr[f + 1]!;
      for (let j = a; j < b; j++) {
        const v = d.factorScopeVars[j]!;
        const k = fill[v]!++;
        ids[k] = f;
        slots[k] = j - a;
      }
    }
    this.varFactorPtr = degree;
    this.varFactorIds = ids;
    this.varFactorSlot = slots;
    Object.freeze(this);
  }

  /**
   * E(y): the sum of every factor's table entry at the labeling. The single
   * source of truth for the energy of a labeling of a factor graph. Trusts `y`
   * (see {@link checkLabels}); factors are summed in id order.
   */
  energy(y: ArrayLike<number>): number {
    const ptr = this.factorScopePtr;
    const vars = this.factorScopeVars;
    const strides = this.factorScopeStrides;
    const off = this.factorTableOffset;
    const tables = this.tables;
    const nFactors = this.nFactors;
    let e = 0;
    for (let f = 0; f < nFactors; f++) {
      let idx = off[f]!;
      const end = ptr[f + 1]!;
      for (let j = ptr[f]!; j < end; j++) idx += y[vars[j]!]! * strides[j]!;
      e += tables[idx]!;
    }
    return e;
  }

  /** Throw NadirError("E_ARG") unless `y` has one label per variable, each within its domain. */
  checkLabels(y: ArrayLike<number>): void {
    if (y.length !== this.nVars) {
      throw new NadirError("E_ARG", `labels: expected ${this.nVars} entries, got ${y.length}`);
    }
    for (let v = 0; v < this.nVars; v++) {
      const l = y[v]!;
      if (!Number.isInteger(l) || l < 0 || l >= this.domains[v]!) {
        throw new NadirError(
          "E_ARG",
          `labels[${v}]: expected a label in [0, ${this.domains[v]}), got ${l}`,
        );
      }
    }
  }
}

/** Collects variables and factors, then validates once and freezes ({@link build}). */
export class FactorGraphBuilder {
  private readonly domainSizes: number[] = [];
  private readonly scopes: number[][] = [];
  private readonly tableList: Float64Array[] = [];

  /** Add a variable with labels 0 … domainSize−1; returns its id. */
  addVariable(domainSize: number): number {
    this.domainSizes.push(domainSize);
    return this.domainSizes.length - 1;
  }

  /** Add `count` variables with the same domain size; returns the id of the first. */
  addVariables(count: number, domainSize: number): number {
    const first = this.domainSizes.length;
    for (let i = 0; i < count; i++) this.domainSizes.push(domainSize);
    return first;
  }

  /**
   * Add a factor over `scope` (distinct variable ids; they may be added later)
   * with energies row-major over the scope, last variable fastest. The scope
   * and table are copied. Returns the factor's id.
   */
  addFactor(scope: ArrayLike<number>, table: ArrayLike<number>): number {
    this.scopes.push(Array.from(scope));
    this.tableList.push(Float64Array.from(table));
    return this.scopes.length - 1;
  }

  get nVars(): number {
    return this.domainSizes.length;
  }

  get nFactors(): number {
    return this.scopes.length;
  }

  /**
   * Validate and freeze. Throws NadirError("E_GRAPH") saying expected vs. got
   * for an empty or non-integer domain, a scope entry out of range, a variable
   * repeated in a scope, a table of the wrong size, or a NaN/±Infinity energy.
   */
  build(): FactorGraph {
    const nVars = this.domainSizes.length;
    const domains = new Int32Array(nVars);
    for (let v = 0; v < nVars; v++) {
      const d = this.domainSizes[v]!;
      if (!Number.isInteger(d) || d < 1 || d > 0x7fffffff) {
        throw new NadirError("E_GRAPH", `variable ${v}: expected a domain size ≥ 1, got ${d}`);
      }
      domains[v] = d;
    }

    const nFactors = this.scopes.length;
    const scopePtr = new Int32Array(nFactors + 1);
    const tableOffset = new Int32Array(nFactors + 1);
    const seen = new Int32Array(nVars).fill(-1);
    for (let f = 0; f < nFactors; f++) {
      const scope = this.scopes[f]!;
      let size = 1;
      for (let j = 0; j < scope.length; j++) {
        const v = scope[j]!;
        if (!Number.isInteger(v) || v < 0 || v >= nVars) {
          throw new NadirError(
            "E_GRAPH",
            `factor ${f}: scope[${j}] expected a variable id in [0, ${nVars}), got ${v}`,
          );
        }
        if (seen[v] === f) {
          throw new NadirError(
            "E_GRAPH",
            `factor ${f}: scope expected distinct variables, got variable ${v} twice in [${scope.join(", ")}]`,
          );
        }
        seen[v] = f;
        size *= domains[v]!;
      }
      const table = this.tableList[f]!;
      if (table.length !== size) {
        const dims = scope.length === 0 ? "a constant" : scope.map((v) => domains[v]).join("×");
        throw new NadirError(
          "E_GRAPH",
          `factor ${f}: table expected ${size} entries (${dims}), got ${table.length}`,
        );
      }
      for (let i = 0; i < size; i++) {
        if (!Number.isFinite(table[i]!)) {
          throw new NadirError(
            "E_GRAPH",
            `factor ${f}: table[${i}] expected a finite energy, got ${table[i]}`,
          );
        }
      }
      scopePtr[f + 1] = scopePtr[f]! + scope.length;
      const next = tableOffset[f]! + size;
      if (next > 0x7fffffff) {
        throw new NadirError(
          "E_TOO_LARGE",
          `factor ${f}: tables expected at most ${0x7fffffff} entries in all, got ${next}`,
        );
      }
      tableOffset[f + 1] = next;
    }

    const scopeVars = new Int32Array(scopePtr[nFactors]!);
    const scopeStrides = new Int32Array(scopePtr[nFactors]!);
    const tables = new Float64Array(tableOffset[nFactors]!);
    for (let f = 0; f < nFactors; f++) {
      const scope = this.scopes[f]!;
      const a = scopePtr[f]!;
      let stride = 1;
      for (let j = scope.length - 1; j >= 0; j--) {
        scopeVars[a + j] = scope[j]!;
        scopeStrides[a + j] = stride;
        stride *= domains[scope[j]!]!;
      }
      tables.set(this.tableList[f]!, tableOffset[f]!);
    }
    return new FactorGraph({
      domains,
      factorScopePtr: scopePtr,
      factorScopeVars: scopeVars,
      factorScopeStrides: scopeStrides,
      factorTableOffset: tableOffset,
      tables,
    });
  }
}
