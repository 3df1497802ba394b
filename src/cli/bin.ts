import { main } from "./main.ts";

// A closed pipe (`nadir tag … | head`) ends the command quietly, like other Unix tools.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  process.stderr.write(`ERROR: cannot write to stdout: ${e.message}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2));
