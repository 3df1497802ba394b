import { readConll } from "../data/conll.ts";
import { LabelScorer } from "../eval/accuracy.ts";
import { ChunkScorer, detectEncoding } from "../eval/chunks.ts";
import {
  formatChunkReport,
  formatChunkReportJson,
  formatLabelReport,
  formatLabelReportJson,
} from "../eval/report.ts";
import { type Command, flag, oneInput } from "./args.ts";

export const evalCommand: Command = {
  name: "eval",
  summary: "score tagged output: gold label in the second-to-last column, prediction in the last",
  usage: "nadir eval [FILE|-] [--encoding auto|iob2|iob1|bioes|none] [--json]",
  options: [
    {
      name: "encoding",
      type: "string",
      default: "auto",
      choices: ["auto", "iob2", "iob1", "bioes", "none"],
      help: "chunk encoding of the labels (auto: chunk scores when every label is O or B-/I-/E-/S-X, else accuracy and per-label scores; none: per-label precision/recall/F1 only)",
    },
    flag("json", "print one JSON object instead of conlleval's text report", "boolean"),
  ],
  async run(v, positionals) {
    const input = oneInput(positionals, "eval");
    const asked = (v.encoding as string | undefined) ?? "auto";
    // conlleval's rules score every chunk encoding alike (strict: false);
    // the choice between chunk and label reports is made once all labels are seen
    const chunks = asked === "none" ? null : new ChunkScorer({ encoding: "bioes", strict: false });
    const labels = new LabelScorer();
    const seen = new Set<string>();
    for await (const s of readConll(input, { minColumns: 2 })) {
      const gold = s.tokens.map((t) => t[t.length - 2]!);
      const pred = s.tokens.map((t) => withoutProbability(t[t.length - 1]!));
      for (let t = 0; t < gold.length; t++) {
        seen.add(gold[t]!);
        seen.add(pred[t]!);
      }
      chunks?.add(gold, pred, { file: s.file, line: s.firstLine });
      labels.add(gold, pred);
    }
    const detected = detectEncoding(seen);
    const chunked = chunks !== null && (asked !== "auto" || detected.encoding !== "none");
    if (chunked && detected.encoding === "none" && seen.size > 0) {
      process.stderr.write(
        `warning: --encoding ${asked} asked, but labels have no B-/I-/E-/S- prefix (${detected.unchunked.join(", ")}): chunk scores mean nothing here; use --encoding none (or auto)\n`,
      );
    }
    const json = v.json === true;
    if (chunked) {
      const r = chunks!.report();
      process.stdout.write(json ? `${formatChunkReportJson(r)}\n` : formatChunkReport(r));
    } else {
      const r = labels.report();
      process.stdout.write(json ? `${formatLabelReportJson(r)}\n` : formatLabelReport(r));
    }
  },
};

/** `nadir tag --marginals` writes `label/probability`: the label is what is scored. */
function withoutProbability(l: string): string {
  const slash = l.lastIndexOf("/");
  if (slash <= 0) return l;
  const p = Number(l.slice(slash + 1));
  return slash < l.length - 1 && p >= 0 && p <= 1 ? l.slice(0, slash) : l;
}
