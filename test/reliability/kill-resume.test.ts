/**
 * `kill -9` and resume, per trainer (averaged perceptron, passive-aggressive,
 * L-BFGS): a child `nadir train --checkpoint` is killed with SIGKILL at a
 * seeded random moment after its first checkpoint, resumed with `--resume`, and
 * the resumed model file must be byte-identical to the one an uninterrupted run
 * writes. The resumed run checkpoints to the same file, so a temporary file
 * orphaned by a kill during a checkpoint write is gone at the end. The test form of
 * scripts/bench/kill-resume.sh, on the shipped EWT dev file (each run a few seconds).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { EWT_DEV, GRAPHS, ROOT, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const BIN = join(ROOT, "bin/nadir.js");
const POS = join(GRAPHS, "pos.json");
const p = (name: string) => join(tmp.dir, name);

beforeAll(() => {
  // L-BFGS keeps its history in the checkpoint: 600 sentences keep each write small
  const text = gunzipSync(readFileSync(EWT_DEV)).toString("utf8");
  writeFileSync(p("ewt600.conllu"), `${text.split("\n\n").slice(0, 600).join("\n\n")}\n\n`);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on("exit", (code) => resolve(code));
  });
}

interface Trainer {
  name: string;
  train: string;
  options: string[];
}

const TRAINERS: Trainer[] = [
  { name: "perceptron", train: EWT_DEV, options: ["--epochs", "8"] },
  {
    name: "pa",
    train: EWT_DEV,
    options: ["--loss", "hinge", "--optimizer", "pa", "--epochs", "8"],
  },
  {
    name: "lbfgs",
    train: "ewt600.conllu",
    options: [
      "--loss",
      "nll",
      "--optimizer",
      "lbfgs",
      "--iterations",
      "25",
      "--eval-every",
      "1",
      "--min-count",
      "2",
    ],
  },
];

describe("kill -9 during training, then --resume: the same model as an uninterrupted run", () => {
  for (const [i, t] of TRAINERS.entries()) {
    it(`${t.name}: killed at a random point after its first checkpoint, resumed, byte-identical`, async () => {
      const dir = p(t.name);
      spawnSync("mkdir", ["-p", dir]);
      const train = t.train.startsWith("/") ? t.train : p(t.train);
      const argv = (model: string) => [
        BIN,
        "train",
        "--graph",
        POS,
        "--train",
        train,
        "--model",
        model,
        "--threads",
        "1",
        ...t.options,
      ];
      const straight = spawnSync(process.execPath, argv(join(dir, "straight.nadir")), {
        encoding: "utf8",
      });
      expect(straight.status, straight.stderr).toBe(0);

      // interrupt: SIGKILL between 0 and 700 ms after the first checkpoint appears
      const rng = new Rng(4200 + i);
      const ck = join(dir, "ck");
      let killed = false;
      let reports = 0;
      for (let attempt = 0; attempt < 4 && !killed; attempt++) {
        const child = spawn(
          process.execPath,
          [...argv(join(dir, "resumed.nadir")), "--checkpoint", ck],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        let log = "";
        child.stderr!.on("data", (d) => {
          log += d;
        });
        while (!existsSync(ck) && child.exitCode === null) await sleep(10);
        await sleep(Math.floor(rng.next() * 700 * 0.5 ** attempt));
        killed = child.kill("SIGKILL") && child.exitCode === null;
        await exited(child);
        killed &&= child.signalCode === "SIGKILL";
        reports = log.split("\n").filter((l) => /^(epoch|iteration) \d/.test(l)).length;
      }
      expect(killed, "the child finished before it could be killed").toBe(true);
      expect(existsSync(join(dir, "resumed.nadir")), "a killed run wrote its model").toBe(false);

      const resumed = spawnSync(
        process.execPath,
        [...argv(join(dir, "resumed.nadir")), "--resume", ck, "--checkpoint", ck],
        { encoding: "utf8" },
      );
      expect(resumed.status, resumed.stderr).toBe(0);
      const a = readFileSync(join(dir, "straight.nadir"));
      const b = readFileSync(join(dir, "resumed.nadir"));
      console.log(
        `kill -9 ${t.name}: killed after ${reports} report(s); resumed model ${b.length} bytes, ${a.equals(b) ? "byte-identical" : "DIFFERENT"} to the uninterrupted one`,
      );
      expect(a.equals(b)).toBe(true);
      expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    });
  }
});
