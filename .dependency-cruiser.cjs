/**
 * nadir's layers, enforced by `npm run lint:deps` (run by `npm test`).
 *
 * Layers, low to high; a folder may import only its own folder and the
 * folders listed in its `may` (a whitelist, so a new edge is a decision
 * made here, with its reason, not an accident):
 *
 *   core                              nothing
 *   data, graph                       core
 *   inference                         core, graph
 *   architecture                      core, data, graph
 *   loss                              core
 *   structure                         core, data, graph, inference, architecture, loss
 *   optimize                          … structure
 *   eval                              core, data
 *   interop                           core, data, graph, architecture
 *   tagger, segment, complete,        everything above, never one another
 *   classify, regress
 *   api                               the applications and below
 *   cli, browser, index.ts            the top: nothing imports them
 *
 * Every `may` list names only lower layers, so no folder cycle can form
 * between layers, and peers (inference/architecture, the applications) may
 * not import each other; `no-folder-cycle` checks it anyway, and
 * `no-circular` forbids module cycles inside a folder.
 *
 * Parser: swc. TypeScript 7 has no JavaScript compiler API, which
 * dependency-cruiser's tsc parser needs, so @swc/core parses the sources.
 * swc reports `import type` as an ordinary import, so type-only imports
 * count for every rule, cycles included (`dependencyTypesNot: ["type-only"]`
 * would need the tsc parser). That is deliberate for the layers (a type from
 * a higher layer is a dependency on it all the same) and cheap for cycles:
 * the three type-only module cycles the code had (tagger/inspect ↔ model,
 * inference/message-passing ↔ each semiring's kernels) were each removed by
 * moving one type.
 *
 * Not here: "no node:* module in the browser entry's graph" is
 * test/browser/import-graph.test.ts, which skips type-only imports (this
 * parser cannot, so the rule would report type imports of node:worker_threads).
 *
 * Speed: about 1 s on src/ (swc, node_modules not followed).
 */

/** @type {{ name: string, folders: string[], may: string[], why: string }[]} */
const LAYERS = [
  {
    name: "core",
    folders: ["core"],
    may: [],
    why: "core (errors, options, container, host, ndarray, rng, threads) is the floor: every layer uses it, so it can use none",
  },
  {
    name: "data",
    folders: ["data"],
    may: ["core"],
    why: "data readers turn files into rows and images; they know nothing of graphs, energies or training",
  },
  {
    name: "graph",
    folders: ["graph"],
    may: ["core"],
    why: "the factor-graph layer (potentials, energy(y), constraints) is what every backend and architecture speaks; it depends on nothing above",
  },
  {
    name: "inference",
    folders: ["inference"],
    may: ["core", "graph"],
    why: "a backend sees only potentials, never features, weights, losses or trainers",
  },
  {
    name: "architecture",
    folders: ["architecture"],
    may: ["core", "data", "graph"],
    why: "an architecture maps (x, W) to potentials and accumulates gradients; it does not choose how they are minimized (inference) or trained",
  },
  {
    name: "loss",
    folders: ["loss"],
    may: ["core"],
    why: "a loss sees only energies (and free energies): that is why every loss works with every architecture and backend",
  },
  {
    name: "structure",
    folders: ["structure"],
    may: ["core", "data", "graph", "inference", "architecture", "loss"],
    why: "a structure (chain, second-order chain, skip-chain graph, grid) answers a loss's questions through the chosen backend; trainers and applications call it, not the reverse",
  },
  {
    name: "optimize",
    folders: ["optimize"],
    may: ["core", "data", "graph", "inference", "architecture", "loss", "structure"],
    why: "trainers and optimizers combine architecture + inference + loss; they know no application (tagger, segmenter…) and no evaluation",
  },
  {
    name: "eval",
    folders: ["eval"],
    may: ["core", "data"],
    why: "eval holds pure metrics (accuracy, chunk F1, reports) over label sequences; evaluating a model belongs to its application",
  },
  {
    name: "interop",
    folders: ["interop"],
    may: ["core", "data", "graph", "architecture"],
    why: "interop reads and writes CRFsuite / CRF++ files into architecture types; applications use it, it uses no application",
  },
  {
    name: "applications",
    folders: ["tagger", "segment", "complete", "classify", "regress"],
    may: [
      "core",
      "data",
      "graph",
      "inference",
      "architecture",
      "loss",
      "structure",
      "optimize",
      "eval",
      "interop",
    ],
    why: "the applications stand side by side on the shared layers and never import one another (a need shared by two goes down a layer)",
  },
  {
    name: "api",
    folders: ["api"],
    may: [
      "core",
      "data",
      "graph",
      "inference",
      "architecture",
      "loss",
      "structure",
      "optimize",
      "eval",
      "interop",
      "tagger",
      "segment",
      "complete",
      "classify",
      "regress",
    ],
    why: "api (Tagger, Segmenter, Completer, Classifier) wraps the applications for library users; the entries (cli, browser, index.ts) sit on it",
  },
];

const BELOW_TOP = LAYERS.flatMap((l) => l.folders);

/** ^src/(a|b)/ — a module in one of these folders. */
const inFolders = (folders) => `^src/(${folders.join("|")})/`;

const layerRules = LAYERS.map((l) => {
  const peers = l.folders.length > 1;
  return {
    name: `layer-${l.name}`,
    comment: `${l.folders.join(", ")} may import only ${[...(peers ? [] : l.folders), ...l.may].join(", ") || "itself"}: ${l.why}.`,
    severity: "error",
    from: { path: inFolders(l.folders) },
    to: {
      path: "^src/",
      // a folder may import itself; peers in one layer (the applications) only themselves
      pathNot: peers ? [`^src/($1)/`, inFolders(l.may)] : inFolders([...l.folders, ...l.may]),
    },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "layer-top",
      comment:
        "cli, the browser entry (src/browser.ts, src/browser/) and the package entry (src/index.ts) are the top: no layer below may import them, and they do not import one another (the browser entry must not pull in the CLI's Node-only modules).",
      severity: "error",
      from: { path: "^src/(cli/|browser/|browser\\.ts$|index\\.ts$)" },
      to: {
        path: "^src/",
        pathNot: [
          inFolders(BELOW_TOP),
          // each entry may import its own folder; browser.ts its browser/ helpers
          "^src/cli/",
          "^src/browser/",
        ],
      },
    },
    {
      name: "layer-cli-only-from-cli",
      comment:
        "only cli/ itself imports cli/ (the browser entry and index.ts must not load the CLI).",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "layer-browser-only-from-browser",
      comment: "src/browser/ serves the browser entry (src/browser.ts) alone.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(browser/|browser\\.ts$)" },
      to: { path: "^src/browser/" },
    },
    {
      name: "layer-unknown-folder",
      comment:
        "every module of src/ belongs to a layer: put a new file in a layer's folder, or add its folder to LAYERS in .dependency-cruiser.cjs with what it may import and why.",
      severity: "error",
      from: {
        path: "^src/",
        pathNot: [inFolders(BELOW_TOP), "^src/(cli|browser)/", "^src/(browser|index)\\.ts$"],
      },
      to: {},
    },
    {
      name: "no-circular",
      comment:
        "no module cycle, type-only imports included (swc does not tell them apart): modules read bottom-up, and a loop means two modules are one. Move the shared type or function down.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-folder-cycle",
      comment:
        "no cycle between folders (the layer rules already make one impossible between layers; this catches a loosened rule).",
      severity: "error",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-orphans",
      comment:
        "a module that imports nothing and that nothing imports is dead code or a forgotten entry (a warning: it does not fail npm test).",
      severity: "warn",
      from: { orphan: true, path: "^src/" },
      to: {},
    },
    {
      name: "ndarray-only-in-core",
      comment:
        "only src/core/ndarray.ts imports ndarray (the import form that works under tsx, vitest and the build is written once there).",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/core/ndarray\\.ts$" },
      to: { path: "(^|/)node_modules/(@types/)?ndarray(-ops)?/" },
    },
    {
      name: "src-no-dev-dependency",
      comment:
        "src/ ships in the package: it may import only dependencies, not devDependencies (the worker entries and the source-worker.mjs they share load tsx on purpose, only when running from the sources).",
      severity: "error",
      from: { path: "^src/", pathNot: "(worker-entry|source-worker)\\.mjs$" },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "src-no-undeclared-package",
      comment: "every package src/ imports is declared in package.json.",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown", "unknown", "undetermined"] },
    },
  ],
  options: {
    // TypeScript 7 has no JS compiler API for dependency-cruiser's tsc parser
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    moduleSystems: ["es6", "cjs"],
    enhancedResolveOptions: {
      extensions: [".ts", ".mjs", ".js"],
      conditionNames: ["import", "require", "node", "default"],
      exportsFields: ["exports"],
      mainFields: ["module", "main", "types"],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      dot: { collapsePattern: "^(src/[^/]+|node_modules/[^/]+)/" },
      text: { highlightFocused: true },
    },
  },
};
