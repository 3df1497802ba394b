import { NadirError } from "../core/errors.ts";
import { readConll } from "../data/conll.ts";
import { LabelScorer } from "../eval/accuracy.ts";
import { type ChunkEncoding, ChunkScorer } from "../eval/chunks.ts";
import {
  formatChunkReport,
  formatChunkReportJson,
  formatLabelReport,
  formatLabelReportJson,
} from "../eval/report.ts";
import { type Command, flag } from "./args.ts";

export const evalCommand: Command = {
  name: "eval",
  summary: "score tagged output: gold label in the second-to-last column, prediction in the last",
  usage: "nadir eval [FILE|-] [--encoding iob2|iob1|bioes|none] [--json]",
  options: [
    {
      name: "encoding",
      type: "string",
      default: "iob2",
      choices: ["iob2", "iob1", "bioes", "none"],
      help: "chunk encoding of the labels (none: per-label precision/recall/F1 only)",
    },
    flag("json", "print one JSON object instead of conlleval's text report", "boolean"),
  ],
  async run(v, positionals) {
    if (positionals.length > 1)
      throw new NadirError("E_ARG", `eval: expected one input file, got ${positionals.length}`);
    const input = positionals[0] ?? "-";
    const encoding = (v.encoding as string | undefined) ?? "iob2";
    const chunks =
      encoding === "none"
        ? null
        : new ChunkScorer({ encoding: encoding as ChunkEncoding, strict: false });
    const labels = new LabelScorer();
    for await (const s of readConll(input, { minColumns: 2 })) {
      const gold = s.tokens.map((t) => t[t.length - 2]!);
      const pred = s.tokens.map((t) => t[t.length - 1]!);
      chunks?.add(gold, pred, { file: s.file, line: s.firstLine });
      labels.add(gold, pred);
    }
    const json = v.json === true;
    if (chunks) {
      const r = chunks.report();
      process.stdout.write(json ? `${formatChunkReportJson(r)}\n` : formatChunkReport(r));
    } else {
      const r = labels.report();
      process.stdout.write(json ? `${formatLabelReportJson(r)}\n` : formatLabelReport(r));
    }
  },
};
