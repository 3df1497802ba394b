/**
 * Combining models trained with the same spec into one over the union of
 * their dictionaries: attributes matched by name (their template and column
 * values), labels by name. `nadir mix` averages shard models this way, and a
 * warm-started training keeps what its init model knew beyond the new data.
 */
import { Dictionary, FeatureExtractor } from "../architecture/features.ts";
import type { StateRows } from "../architecture/linear-chain.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { Model } from "./model.ts";

/** Can `a` and `b` be combined (same spec, hence the same attribute tuples)? */
export function sameSpec(a: GraphSpec, b: GraphSpec): boolean {
  return JSON.stringify(a.source) === JSON.stringify(b.source);
}

/** Slot index of every template part (columns, then derived columns: FeatureExtractor's order). */
function partSlots(spec: GraphSpec): number[][] {
  const slot = new Map<string, number>();
  for (const name of Object.keys(spec.columns)) slot.set(name, slot.size);
  for (const d of spec.derived) slot.set(d.name, slot.size);
  return spec.templates.map((t) => t.parts.map((p) => slot.get(p.column) ?? -1));
}

/**
 * One model over the union of the models' attributes and labels.
 * mode "sum": W = Σᵢ cᵢ·Wᵢ, a weight a model lacks counting as 0 (a model
 * file stores no zero weights, so absent and zero are the same);
 * mode "first": each weight from the first model that has it.
 * Labels and attributes are numbered in order of first appearance over the
 * models (so shard models that share an init's label order keep it).
 */
export function combineModels(
  models: readonly Model[],
  coefs: readonly number[],
  mode: "sum" | "first",
): Model {
  if (models.length === 0) throw new NadirError("E_ARG", "mix: no model given");
  if (models.some((m) => m.network))
    throw new NadirError(
      "E_UNSUPPORTED",
      "mix: models with a network under the chain do not mix (parameter mixing averages linear energies)",
    );
  const first = models[0]!;
  const spec = first.spec;
  models.forEach((m, i) => {
    if (!sameSpec(m.spec, spec))
      throw new NadirError(
        "E_ARG",
        `mix: model ${i + 1} was trained with another spec than model 1 (${m.spec.name} vs ${spec.name}); only models of the same spec mix`,
      );
  });
  // labels: union in order of first appearance
  const labels = new Dictionary();
  for (const m of models) for (const l of m.labels) labels.add(l);
  const L = labels.size;
  const labelMaps = models.map((m) => Int32Array.from(m.labels, (l) => labels.get(l)));

  // attributes: union of the attribute tuples, column values renumbered
  const raw = spec.format === "crfsuite";
  const slots = partSlots(spec);
  const nT = spec.templates.length;
  const states = models.map((m) => m.fx.state(undefined, true)); // names as strings, to merge
  const stride = states[0]!.stride;
  const nSlots = states[0]!.vocabs.length;
  const vocabs = Array.from({ length: nSlots }, () => new Dictionary());
  const byKey = new Map<string, number>();
  const keys: number[] = [];
  const attrMaps: Int32Array[] = [];
  for (const st of states) {
    if (st.stride !== stride || st.vocabs.length !== nSlots)
      throw new NadirError("E_MODEL", "mix: the models' attribute tables do not fit one spec");
    const vmaps = st.vocabs.map((names, j) => Int32Array.from(names, (n) => vocabs[j]!.add(n)));
    const n = st.keys.length / stride;
    const map = new Int32Array(n);
    const key = new Array<number>(stride);
    for (let a = 0; a < n; a++) {
      for (let j = 0; j < stride; j++) key[j] = st.keys[a * stride + j]!;
      if (raw) {
        key[0] = vmaps[0]![key[0]!]!;
      } else if (key[0]! < nT) {
        const parts = slots[key[0]!]!;
        for (let i = 0; i < parts.length; i++) {
          const v = key[1 + i]!;
          if (v >= 0) key[1 + i] = vmaps[parts[i]!]![v]!;
        }
      }
      const s = key.join(",");
      let id = byKey.get(s);
      if (id === undefined) {
        id = byKey.size;
        byKey.set(s, id);
        for (const v of key) keys.push(v);
      }
      map[a] = id;
    }
    attrMaps.push(map);
  }
  const A = byKey.size;
  const fx = new FeatureExtractor(spec, {
    vocabs: vocabs.map((v) => v.names),
    stride,
    keys: Int32Array.from(keys),
  });

  // state rows: dense when every model is, else the union of the (attribute, label) pairs
  let rows: StateRows | null = null;
  if (models.some((m) => m.arch.rows !== null)) {
    const words = Math.ceil(L / 32);
    const seen = new Uint32Array(A * words);
    models.forEach((m, i) => {
      const arch = m.arch;
      const amap = attrMaps[i]!;
      const lmap = labelMaps[i]!;
      for (let a = 0; a < arch.A; a++) {
        const u = amap[a]!;
        arch.rowLabels(a, (label) => {
          const l = lmap[label]!;
          const w = u * words + (l >>> 5);
          seen[w] = seen[w]! | (1 << (l & 31));
        });
      }
    });
    const rowPtr = new Int32Array(A + 1);
    const lab: number[] = [];
    for (let a = 0; a < A; a++) {
      for (let l = 0; l < L; l++) if (seen[a * words + (l >>> 5)]! & (1 << (l & 31))) lab.push(l);
      rowPtr[a + 1] = lab.length;
    }
    rows = { rowPtr, rowLabel: Int32Array.from(lab) };
  }
  const nColumns = Math.max(...models.map((m) => m.nColumns));
  const out = new Model(spec, labels.names, fx, null, nColumns, rows);
  const arch = out.arch;
  const W = out.W;
  const set = mode === "first" ? new Uint8Array(arch.K) : null;
  const put = (t: number, v: number, c: number) => {
    if (set) {
      if (set[t] === 0) {
        W[t] = v;
        set[t] = 1;
      }
    } else W[t] = W[t]! + c * v;
  };
  models.forEach((m, i) => {
    const c = coefs[i] ?? 1;
    m.arch.mapWeights(m.W, arch, attrMaps[i]!, labelMaps[i]!, (t, v) => put(t, v, c));
  });
  return out;
}

/**
 * `nadir mix`: the weighted average Σᵢ μᵢ·Wᵢ of models trained with the same
 * spec, μ = weights normalized to sum 1 (uniform when none are given).
 */
export function mixModels(models: readonly Model[], weights?: readonly number[]): Model {
  if (weights && weights.length !== models.length)
    throw new NadirError(
      "E_ARG",
      `mix: expected ${models.length} weights (one per model), got ${weights.length}`,
    );
  const w = weights ?? models.map(() => 1);
  let total = 0;
  for (const x of w) {
    if (!Number.isFinite(x) || x < 0)
      throw new NadirError("E_ARG", `mix: weights must be finite and ≥ 0, got ${x}`);
    total += x;
  }
  const mu = total > 0 ? w.map((x) => x / total) : w.map(() => 1 / w.length);
  return combineModels(models, mu, "sum").compact();
}
