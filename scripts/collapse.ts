/**
 * The collapse experiment (implicit regression of Y = X²).
 *
 * E(X, Y) = ‖G₁(X) − G₂(Y)‖₁ with G₁, G₂ two 1→8→4 sigmoid networks, trained
 * by plain SGD on 200 samples X ~ U[−1, 1] with three losses: the energy
 * loss, square-square and NLL (partition function on the Y grid). Y is
 * inferred by grid search over [−1.5, 1.5]. Prints per loss the test MSE of
 * the inferred Y and the energy spread (max − min of E over the Y grid, and
 * over the targets' range Y ∈ [0, 1], averaged over test X), writes out/collapse.png (energy | square-square |
 * NLL), and ends with one JSON line {"energy":{…},"square-square":{…},"nll":{…}}.
 *
 * With --inference gradient, Y* and square-square's most offending Ȳ are
 * found by gradient descent through the modules (7 restarts) instead.
 *
 *   npx tsx scripts/collapse.ts [--epochs N] [--seed S] [--inference grid|gradient]
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { writePng } from "../src/data/image.ts";
import { DEFAULT_COLLAPSE, type Metrics, runCollapse } from "../src/regress/collapse.ts";
import { energyPanels } from "../src/regress/plot.ts";

const { values } = parseArgs({
  options: {
    epochs: { type: "string" },
    seed: { type: "string" },
    inference: { type: "string", default: "grid" },
    out: { type: "string", default: "out/collapse.png" },
  },
});
const opts = { ...DEFAULT_COLLAPSE };
if (values.epochs !== undefined) opts.epochs = Number.parseInt(values.epochs, 10);
if (values.seed !== undefined) opts.seed = Number.parseInt(values.seed, 10);
if (values.inference !== "grid" && values.inference !== "gradient") {
  console.error("ERROR: --inference expected grid or gradient");
  process.exit(1);
}
opts.inference = values.inference;
if (!(opts.epochs >= 1) || !Number.isInteger(opts.seed)) {
  console.error("ERROR: --epochs must be a positive integer and --seed an integer");
  process.exit(1);
}

const t0 = Date.now();
const results = runCollapse(opts);
const secs = (Date.now() - t0) / 1000;

console.log(
  `Y = X², ${opts.nTrain} train / ${opts.nTest} test, ${opts.epochs} epochs, lr ${opts.lr}, ` +
    `${opts.inference} inference, grid ${opts.gridN} on [${opts.gridMin}, ${opts.gridMax}], m ${opts.margin}, ε ${opts.epsilon}, β ${opts.beta} (${secs.toFixed(1)} s)`,
);
console.log("loss            test MSE    spread  spread on [0,1]");
const summary: Record<string, Metrics> = {};
for (const r of results) {
  console.log(
    `${r.loss.padEnd(14)}  ${r.metrics.mse.toExponential(3).padStart(9)}  ${r.metrics.spread.toFixed(4).padStart(8)}  ${r.metrics.spreadData.toFixed(4).padStart(15)}`,
  );
  summary[r.loss] = r.metrics;
}
const img = energyPanels(results.map((r) => r.model));
mkdirSync("out", { recursive: true });
writePng(values.out, img);
console.log(`wrote ${values.out} (${img.width}×${img.height}: energy | square-square | nll)`);
console.log(JSON.stringify(summary));
