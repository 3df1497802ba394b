/**
 * Max-flow benchmark on a DIMACS max-flow file (e.g. the grid denoising
 * instance of ../shared/tools/maxflow/gen_dimacs.py) with nadir's
 * Boykov–Kolmogorov implementation. Arcs out of the source / into the sink
 * become terminal weights; an arc u→v followed on the next line by v→u becomes
 * one edge with both capacities (as the BK driver bk_dimacs.cpp does).
 * `solve_s` is the best of `--reps` maxflow() runs, each on a freshly built
 * graph (neither parsing nor graph construction is timed); `build_s` the
 * best construction time. Last line:
 *   {"flow":…, "solve_s":…, "nodes":…, "arcs":…, "build_s":…, "parse_s":…}
 *
 *   npx tsx scripts/bench/maxflow.ts --dimacs /tmp/grid512.max [--reps 5]
 */
import { readFileSync } from "node:fs";
import { NadirError } from "../../src/core/errors.ts";
import { MaxflowGraph } from "../../src/inference/mincut/maxflow.ts";
import { benchArgs } from "./args.ts";

interface Dimacs {
  nodes: number;
  source: number;
  sink: number;
  /** Number of arcs read. */
  arcs: number;
  /** 1-based tail, head, capacity of each arc, in file order. */
  tail: Int32Array;
  head: Int32Array;
  cap: Float64Array;
}

const SP = 32;
const TAB = 9;
const CR = 13;
const LF = 10;

/** Parse a DIMACS max-flow file; NadirError("E_PARSE") with file:line on malformed input. */
export function parseDimacs(file: string, buf: Uint8Array = readFileSync(file)): Dimacs {
  let pos = 0;
  let line = 0;
  const len = buf.length;
  const fail = (msg: string): never => {
    throw new NadirError("E_PARSE", msg, { file, line });
  };
  const skipSpaces = () => {
    while (pos < len && (buf[pos] === SP || buf[pos] === TAB || buf[pos] === CR)) pos++;
  };
  const token = (): string => {
    skipSpaces();
    const a = pos;
    while (pos < len && buf[pos] !== SP && buf[pos] !== TAB && buf[pos] !== CR && buf[pos] !== LF)
      pos++;
    return a === pos ? "" : Buffer.from(buf.buffer, buf.byteOffset + a, pos - a).toString();
  };
  /** A non-negative integer (fast path); -1 when the token is not one. */
  const uint = (what: string): number => {
    skipSpaces();
    let v = 0;
    const a = pos;
    while (pos < len) {
      const c = buf[pos]!;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      pos++;
    }
    if (
      pos === a ||
      (pos < len && buf[pos] !== SP && buf[pos] !== TAB && buf[pos] !== CR && buf[pos] !== LF)
    ) {
      pos = a;
      return fail(`${what}: expected a non-negative integer, got '${token()}'`);
    }
    return v;
  };
  const number = (what: string): number => {
    skipSpaces();
    const a = pos;
    let v = 0;
    while (pos < len) {
      const c = buf[pos]!;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      pos++;
    }
    if (
      pos > a &&
      (pos === len || buf[pos] === SP || buf[pos] === TAB || buf[pos] === CR || buf[pos] === LF)
    )
      return v;
    pos = a;
    const t = token();
    const x = Number(t);
    if (t === "" || !Number.isFinite(x) || x < 0) {
      fail(`${what}: expected a finite capacity ≥ 0, got '${t}'`);
    }
    return x;
  };
  const endOfLine = () => {
    skipSpaces();
    if (pos < len && buf[pos] !== LF) fail(`expected the end of the line, got '${token()}'`);
  };

  let nodes = -1;
  let m = 0;
  let source = -1;
  let sink = -1;
  let arcs = 0;
  let tail = new Int32Array(0);
  let head = new Int32Array(0);
  let cap = new Float64Array(0);
  const nodeId = (what: string): number => {
    const v = uint(what);
    if (v < 1 || v > nodes) fail(`${what}: expected a node id in [1, ${nodes}], got ${v}`);
    return v;
  };
  while (pos < len) {
    line++;
    skipSpaces();
    const c = buf[pos];
    if (c === LF || pos >= len) {
      // blank line
    } else if (c === 99 /* c */) {
      while (pos < len && buf[pos] !== LF) pos++;
    } else if (c === 112 /* p */) {
      pos++;
      if (nodes >= 0) fail("expected one 'p' line, got a second");
      const kind = token();
      if (kind !== "max") fail(`expected 'p max N M', got problem type '${kind}'`);
      nodes = uint("p: N");
      m = uint("p: M");
      if (nodes < 2) fail(`p: expected N ≥ 2 (source and sink), got ${nodes}`);
      tail = new Int32Array(m);
      head = new Int32Array(m);
      cap = new Float64Array(m);
      endOfLine();
    } else if (c === 110 /* n */) {
      pos++;
      if (nodes < 0) fail("expected the 'p max N M' line before 'n' lines");
      const id = nodeId("n: ID");
      const w = token();
      if (w === "s") {
        if (source >= 0) fail(`n: expected one source, got a second (${id})`);
        source = id;
      } else if (w === "t") {
        if (sink >= 0) fail(`n: expected one sink, got a second (${id})`);
        sink = id;
      } else fail(`n: expected 's' or 't', got '${w}'`);
      endOfLine();
    } else if (c === 97 /* a */) {
      pos++;
      if (nodes < 0) fail("expected the 'p max N M' line before 'a' lines");
      if (arcs === m) fail(`expected ${m} arcs (p line), got more`);
      tail[arcs] = nodeId("a: U");
      head[arcs] = nodeId("a: V");
      cap[arcs] = number("a: CAP");
      arcs++;
      endOfLine();
    } else {
      fail(`expected a line starting with c, p, n or a, got '${token()}'`);
    }
    if (pos < len) pos++; // the newline
  }
  if (nodes < 0) fail("expected a 'p max N M' line, got none");
  if (source < 0 || sink < 0)
    fail(`expected 'n ID s' and 'n ID t' lines, got ${source < 0 ? "no source" : "no sink"}`);
  if (source === sink) fail(`expected a sink different from the source, got both ${source}`);
  if (arcs !== m) fail(`expected ${m} arcs (p line), got ${arcs}`);
  return { nodes, source, sink, arcs, tail, head, cap };
}

/** Build the graph: node id − 1 for every DIMACS node (source and sink stay isolated). */
function build(d: Dimacs, g: MaxflowGraph): number {
  g.reset();
  g.reserve(d.nodes, d.arcs);
  g.addNode(d.nodes);
  const { tail, head, cap, source, sink } = d;
  let constant = 0;
  const m = d.arcs;
  for (let k = 0; k < m; k++) {
    const u = tail[k]!;
    const v = head[k]!;
    const c = cap[k]!;
    if (u === v || v === source || u === sink) continue; // useless for s-t flow
    if (u === source) {
      if (v === sink) constant += c;
      else g.addTweights(v - 1, c, 0);
    } else if (v === sink) {
      g.addTweights(u - 1, 0, c);
    } else if (k + 1 < m && tail[k + 1] === v && head[k + 1] === u) {
      g.addEdge(u - 1, v - 1, c, cap[k + 1]!);
      k++;
    } else {
      g.addEdge(u - 1, v - 1, c, 0);
    }
  }
  return constant;
}

function main(): void {
  const args = benchArgs({ dimacs: "", reps: "5" });
  if (args.dimacs === "") {
    process.stderr.write("ERROR: --dimacs FILE is required\n");
    process.exit(1);
  }
  const reps = Number(args.reps);
  if (!Number.isInteger(reps) || reps < 1) {
    process.stderr.write(`ERROR: --reps expected an integer ≥ 1, got '${args.reps}'\n`);
    process.exit(1);
  }
  let d: Dimacs;
  const t0 = performance.now();
  try {
    d = parseDimacs(args.dimacs);
  } catch (e) {
    process.stderr.write(`ERROR: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const parseS = (performance.now() - t0) / 1000;
  const g = new MaxflowGraph(d.nodes, d.arcs);
  let best = Number.POSITIVE_INFINITY;
  let bestBuild = Number.POSITIVE_INFINITY;
  let flow = 0;
  for (let r = 0; r < reps; r++) {
    const b0 = performance.now();
    const constant = build(d, g);
    const b1 = performance.now();
    flow = g.maxflow() + constant;
    const b2 = performance.now();
    bestBuild = Math.min(bestBuild, (b1 - b0) / 1000);
    best = Math.min(best, (b2 - b1) / 1000);
    process.stderr.write(`rep ${r + 1}: flow ${flow} solve ${((b2 - b1) / 1000).toFixed(4)} s\n`);
  }
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  console.log(
    JSON.stringify({
      flow,
      solve_s: round(best),
      nodes: d.nodes,
      arcs: d.arcs,
      build_s: round(bestBuild),
      parse_s: round(parseS),
    }),
  );
}

main();
