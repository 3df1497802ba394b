import { parseArgs } from "node:util";
import { NadirError } from "../core/errors.ts";
import { choicesOf, coerceOption, type OptionDecl } from "../core/options.ts";
import { closest } from "./suggest.ts";

/** A CLI command: its flags are OptionDecls, shared with the library where they configure it. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: readonly OptionDecl[];
  /** commands named by the first positional, e.g. `complete train` (name: "complete train") */
  subcommands?: readonly Command[];
  run(values: Record<string, unknown>, positionals: string[]): Promise<void> | void;
}

/** Declare a string flag without a default (paths and the like). */
export function flag(name: string, help: string, type: OptionDecl["type"] = "string"): OptionDecl {
  return { name, type, default: type === "boolean" ? false : "", help };
}

/** The value of flag `name`, or E_ARG "`who`: --name is required". */
export function required(v: Record<string, unknown>, name: string, who: string): string {
  const x = v[name];
  if (!x) throw new NadirError("E_ARG", `${who}: --${name} is required (see nadir ${who} --help)`);
  return x as string;
}

/** The one input file of a command ("-" = stdin when none); E_ARG for more than one. */
export function oneInput(positionals: readonly string[], who: string): string {
  if (positionals.length > 1)
    throw new NadirError("E_ARG", `${who}: expected one input file, got ${positionals.length}`);
  return positionals[0] ?? "-";
}

export function helpText(cmd: Command): string {
  const lines = [`usage: ${cmd.usage}`, "", cmd.summary, "", "options:"];
  const label = (o: OptionDecl): string => {
    if (o.type === "boolean") return `  --${o.default === true ? "[no-]" : ""}${o.name}`;
    return `  --${o.name} <${o.type === "string" ? "s" : "n"}>`;
  };
  const width = Math.max(...cmd.options.map((o) => label(o).length), 8) + 2;
  for (const o of cmd.options) {
    const dflt = o.default !== "" && o.default !== false ? ` (default: ${o.default})` : "";
    const allowed = choicesOf(o);
    const choices = allowed ? ` [${allowed.join("|")}]` : "";
    lines.push(`${label(o).padEnd(width)}${o.help}${choices}${dflt}`);
  }
  lines.push(`${"  --help".padEnd(width)}show this help`);
  return lines.join("\n");
}

/**
 * Parse argv for a command: unknown flags and bad values are E_ARG errors;
 * returns values under the declared kebab names (booleans accept --no-x).
 */
export function parseCommand(
  cmd: Command,
  argv: string[],
): { values: Record<string, unknown>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const o of cmd.options) {
    options[o.name] = { type: o.type === "boolean" ? "boolean" : "string" };
    if (o.type === "boolean") options[`no-${o.name}`] = { type: "boolean" };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0]!;
    // node's parseArgs: "Unknown option '--epoch'. To specify a positional argument …"
    const unknown = /^Unknown option '(-{1,2})([^'=]+)'/.exec(msg);
    if (unknown) {
      const names = cmd.options.map((o) => o.name);
      const guess = closest(unknown[2]!, [...names, "help"]);
      throw new NadirError(
        "E_ARG",
        `${cmd.name}: unknown option '${unknown[1]}${unknown[2]}'; ${guess ? `did you mean --${guess}? (see nadir ${cmd.name} --help)` : `options: ${names.map((n) => `--${n}`).join(" ")}`}`,
      );
    }
    throw new NadirError("E_ARG", `${cmd.name}: ${msg} (see nadir ${cmd.name} --help)`);
  }
  const values: Record<string, unknown> = {};
  for (const o of cmd.options) {
    const v = parsed.values[o.name];
    const neg = parsed.values[`no-${o.name}`];
    if (neg === true) values[o.name] = false;
    else if (v !== undefined) values[o.name] = coerceOption(o, v, cmd.name);
  }
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}
