/**
 * Convert CoNLL-U sentences (gold words = FORM) into character rows for word
 * segmentation — `char  type  label`, CoNLL columns — under the B/M/E/S
 * scheme (graphs/cws.json) or the binary B/I scheme (graphs/cws-binary.json).
 *
 * The output goes to a temporary directory unless --output says otherwise:
 * the UD Chinese GSD v1.4 data is CC BY-NC-SA, read from ../shared and never
 * copied into the repository.
 *
 *   npx tsx scripts/data/cws-chars.ts --input ../shared/corpora/ud-chinese-gsd-v1.4/zh-ud-train.conllu \
 *       [--scheme bmes|binary] [--output FILE]
 *
 * Prints the path written and the sentence, word and character counts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { readCorpus } from "../../src/architecture/corpus.ts";
import { NadirError } from "../../src/core/errors.ts";
import { writeFileAtomic } from "../../src/core/io.ts";
import { type CwsScheme, charsConll, conlluWords } from "../../src/segment/cws.ts";
import { benchArgs } from "../bench/args.ts";

/** Convert one CoNLL-U file; returns the counts. */
export async function convertFile(
  input: string,
  output: string,
  scheme: CwsScheme,
): Promise<{ sentences: number; words: number; chars: number }> {
  const sentences = conlluWords(await readCorpus(input, "conllu"));
  const text = charsConll(sentences, scheme);
  writeFileAtomic(output, text);
  let words = 0;
  for (const s of sentences) words += s.words.length;
  let chars = 0;
  for (const line of text.split("\n")) if (line !== "") chars++;
  return { sentences: sentences.filter((s) => s.words.length > 0).length, words, chars };
}

if (process.argv[1] && basename(process.argv[1]).startsWith("cws-chars")) {
  const args = benchArgs({ input: "", scheme: "bmes", output: "" });
  try {
    if (!args.input) throw new NadirError("E_ARG", "--input FILE.conllu is required");
    if (args.scheme !== "bmes" && args.scheme !== "binary")
      throw new NadirError("E_ARG", `--scheme expected bmes or binary, got ${args.scheme}`);
    const output =
      args.output ||
      join(
        mkdtempSync(join(tmpdir(), "nadir-cws-")),
        `${basename(args.input).replace(/\.conllu$/, "")}.${args.scheme}.txt`,
      );
    const n = await convertFile(args.input, output, args.scheme);
    console.log(JSON.stringify({ output, ...n }));
  } catch (e) {
    process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
