import { NadirError } from "../core/errors.ts";
import { type Command, helpText, parseCommand } from "./args.ts";
import { completeCommand } from "./complete.ts";
import { evalCommand } from "./eval.ts";
import { scoreCommand } from "./score.ts";
import { segmentCommand } from "./segment.ts";
import { tagCommand } from "./tag.ts";
import { trainCommand } from "./train.ts";

const COMMANDS: Command[] = [
  trainCommand,
  tagCommand,
  evalCommand,
  scoreCommand,
  segmentCommand,
  completeCommand,
];

function usage(): string {
  const lines = ["usage: nadir <command> [options]", "", "commands:"];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(8)} ${c.summary}`);
  lines.push("", "Run `nadir <command> --help` for the options of a command.");
  return lines.join("\n");
}

/** Entry point: dispatch, and turn every error into one `ERROR:` line and exit code 1. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd)
      throw new NadirError(
        "E_ARG",
        `unknown command '${name}'; expected one of ${COMMANDS.map((c) => c.name).join(", ")}`,
      );
    const { values, positionals, help } = parseCommand(cmd, rest);
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
