import { NadirError } from "../core/errors.ts";
import type { Command } from "./args.ts";
import { closest } from "./suggest.ts";

/**
 * The commands, loaded on demand: `nadir --help` and `nadir --version` import
 * none of them, and a command imports only what it uses.
 */
const COMMANDS: readonly { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: "train",
    summary: "train a sequence labeler on a corpus and write a model file",
    load: async () => (await import("./train.ts")).trainCommand,
  },
  {
    name: "tag",
    summary: "label a corpus with a trained model (prediction appended as the last column)",
    load: async () => (await import("./tag.ts")).tagCommand,
  },
  {
    name: "eval",
    summary: "score tagged output: gold label in the second-to-last column, prediction in the last",
    load: async () => (await import("./eval.ts")).evalCommand,
  },
  {
    name: "score",
    summary: "energy, Gibbs probability and detection verdict of given labelings",
    load: async () => (await import("./score.ts")).scoreCommand,
  },
  {
    name: "dump",
    summary:
      "show a model: labels, transition energies, strongest attributes per label, counts, spec",
    load: async () => (await import("./dump.ts")).dumpCommand,
  },
  {
    name: "explain",
    summary:
      "per token, the attributes behind the chosen label and against the runner-up, as energies",
    load: async () => (await import("./explain.ts")).explainCommand,
  },
  {
    name: "segment",
    summary: "binary image segmentation / denoising by graph cuts (train a grid energy, apply it)",
    load: async () => (await import("./segment.ts")).segmentCommand,
  },
  {
    name: "mix",
    summary: "average models trained with the same spec (parameter mixing) into one model file",
    load: async () => (await import("./mix.ts")).mixCommand,
  },
  {
    name: "complete",
    summary: "fill the blank ___ of a sentence with the lowest-energy words (log-bilinear model)",
    load: async () => (await import("./complete.ts")).completeCommand,
  },
];

function usage(): string {
  const lines = ["usage: nadir <command> [options]", "", "commands:"];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(8)} ${c.summary}`);
  lines.push(
    "",
    "Run `nadir <command> --help` for the options of a command; `nadir --version` for the version.",
  );
  return lines.join("\n");
}

/** The package's version, read from its package.json (two levels up from src/cli or dist/cli). */
async function version(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

/** Entry point: dispatch, and turn every error into one `ERROR:` line and exit code 1. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      (name === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
      return name === undefined ? 1 : 0;
    }
    if (name === "--version" || name === "-v" || name === "version") {
      process.stdout.write(`${await version()}\n`);
      return 0;
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) {
      const names = COMMANDS.map((c) => c.name);
      const guess = closest(name.replace(/^-+/, ""), names);
      throw new NadirError(
        "E_ARG",
        `unknown command '${name}'${guess ? ` (did you mean ${guess}?)` : ""}; expected one of ${names.join(", ")}`,
      );
    }
    const [top, { helpText, parseCommand }] = await Promise.all([
      entry.load(),
      import("./args.ts"),
    ]);
    const sub = top.subcommands?.find((c) => c.name === `${top.name} ${rest[0]}`);
    const cmd = sub ?? top;
    const { values, positionals, help } = parseCommand(cmd, sub ? rest.slice(1) : rest);
    if (help) {
      process.stdout.write(`${helpText(cmd)}\n`);
      return 0;
    }
    await cmd.run(values, positionals);
    return 0;
  } catch (e) {
    if (e instanceof NadirError) {
      process.stderr.write(`ERROR: ${e.message}\n`);
    } else if (e instanceof Error && "code" in e && (e as NodeJS.ErrnoException).code === "EPIPE") {
      return 0;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`ERROR: internal error: ${msg.split("\n")[0]}\n`);
      if (process.env.NADIR_DEBUG) console.error(e);
    }
    return 1;
  }
}
