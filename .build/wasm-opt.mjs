// Optimises many WASM modules for size in one process: `wasm-opt -Oz` from the npm binaryen, as
// its library, so the compiler inside it starts once rather than once a file (a split bundle is
// hundreds of small modules). Usage: node wasm-opt.mjs FILE... (each rewritten in place).
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";

const F = binaryen.Features;
// as `wasm-opt --enable-bulk-memory --enable-nontrapping-float-to-int`: the features the module's
// target_features section names (read with it), its defaults, and those two
const extra = F.SignExt | F.MutableGlobals | F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt;
binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2); // -Oz
binaryen.setDebugInfo(false); // no name section in the output
binaryen.setGenerateStackIR(true); // as the CLI does when it optimises: smaller code on writing
binaryen.setOptimizeStackIR(true);

for (const file of process.argv.slice(2)) {
  const module = binaryen.readBinary(readFileSync(file));
  module.setFeatures(module.getFeatures() | extra);
  module.optimize();
  // the producers and target-features sections are for tools, not browsers
  module.runPasses(["strip-producers", "strip-target-features"]);
  writeFileSync(file, module.emitBinary());
  module.dispose();
}
