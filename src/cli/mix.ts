/**
 * `nadir mix A.nadir B.nadir … --out M.nadir [--weights w1,w2,…]`: the
 * weighted average of models trained with the same spec, over the union of
 * their attributes and labels (matched by name), written atomically — the
 * mixing step of iterative parameter mixing when the shards train in
 * separate processes or machines (`nadir train --init M --epochs 1` each).
 */
import { existsSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { NadirError } from "../core/errors.ts";
import { mixModels } from "../tagger/mix-models.ts";
import { Model } from "../tagger/model.ts";
import { type Command, flag, required } from "./args.ts";

const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));

/** `--weights 3,1,2` as numbers (finite, ≥ 0), one per model. */
function parseWeights(s: string, n: number): number[] {
  const w = s.split(",").map((x) => (x.trim() === "" ? Number.NaN : Number(x)));
  for (const x of w) {
    if (!Number.isFinite(x) || x < 0)
      throw new NadirError(
        "E_ARG",
        `mix --weights: expected numbers ≥ 0 separated by commas, got '${s}'`,
      );
  }
  if (w.length !== n)
    throw new NadirError(
      "E_ARG",
      `mix --weights: expected ${n} weights (one per model), got ${w.length}`,
    );
  return w;
}

export const mixCommand: Command = {
  name: "mix",
  summary: "average models trained with the same spec (parameter mixing) into one model file",
  usage: "nadir mix A.nadir B.nadir … --out M.nadir [--weights w1,w2,…]",
  options: [
    flag("out", "where to write the mixed model (written atomically)"),
    flag(
      "weights",
      "mixing weights, one per model (normalized to sum 1; e.g. each shard's mistakes); default: uniform",
    ),
  ],
  run(v, positionals) {
    if (positionals.length === 0)
      throw new NadirError("E_ARG", "mix: expected model files to mix (see nadir mix --help)");
    const out = required(v, "out", "mix");
    for (const p of positionals) {
      if (real(p) === real(out))
        throw new NadirError(
          "E_ARG",
          `mix: --out ${out} is also an input model; it would be overwritten before it is read (choose another --out)`,
        );
    }
    const weights =
      v.weights === undefined ? undefined : parseWeights(v.weights as string, positionals.length);
    const models = positionals.map((p) => Model.load(p));
    const mixed = mixModels(models, weights);
    mixed.save(out);
    process.stderr.write(
      `mixed ${models.length} models: ${mixed.fx.numAttributes} attributes, ${mixed.labels.length} labels; model written to ${out}\n`,
    );
  },
};
