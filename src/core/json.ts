import { NadirError } from "./errors.ts";
import { readFileText } from "./host.ts";

/**
 * Read a JSON file (a UTF-8 BOM is tolerated): E_IO when it cannot be read,
 * E_PARSE with file:line when it is not JSON.
 */
export function readJsonFile(path: string, what = "file"): unknown {
  let text: string;
  try {
    text = readFileText(path).replace(/^\uFEFF/, "");
  } catch (e) {
    throw new NadirError("E_IO", `cannot read ${what}: ${(e as Error).message}`, { file: path });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split("\n").length : undefined;
    // V8 quotes the text around the error; its line breaks would split the one ERROR line
    const oneLine = msg.replace(/\r?\n|\r/g, "\\n");
    throw new NadirError("E_PARSE", `invalid JSON: ${oneLine}`, { file: path, line });
  }
}
