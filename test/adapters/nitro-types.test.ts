import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const example = `${root}examples/nitro/nitro.config.ts`;

// The repo's own typecheck sees adapters/ whole, so the `agentgate` key is always known
// there. A user's program has only what nitro.config.ts imports: check it that way.
describe("the README's nitro.config.ts in a program of its own", () => {
  it("type-checks as written", () => {
    expect(typeErrors(readFileSync(example, "utf8"))).toEqual([]);
  });

  it("rejects an option the agentgate key does not have, so the key really is typed", () => {
    const typo = readFileSync(example, "utf8").replace("storage: \"agentgate\",", "storag: \"agentgate\",");
    expect(typeErrors(typo).join("\n")).toContain("'storag' does not exist");
  });

  it("rejects a provider option of the wrong type, and a provider that does not exist", () => {
    const config = readFileSync(example, "utf8");
    const wrongType = config.replace("providers: { echo: { delayMs: 20 } }", 'providers: { echo: { delayMs: "fast" } }');
    expect(typeErrors(wrongType).join("\n")).toContain("Type 'string' is not assignable to type 'number'");
    const unknown = config.replace("providers: { echo: { delayMs: 20 } }", "providers: { ech: {} }");
    expect(typeErrors(unknown).join("\n")).toContain("'ech' does not exist");
    const keyed = config.replace("providers: { echo: { delayMs: 20 } }", 'providers: { openai: { baseURL: "http://127.0.0.1:1/v1", connections: "many" } }');
    expect(typeErrors(keyed).join("\n")).toContain("Type 'string' is not assignable to type 'number'");
  });
});

/** tsc's errors for a nitro.config.ts with this text, where `agentgate/nitro` is the module's source. */
function typeErrors(text: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    paths: { "agentgate/nitro": [`${root}adapters/nitro.ts`] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile;
  host.readFile = (path) => (path === example ? text : readFile(path));
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (path, language, ...rest) => (path === example ? ts.createSourceFile(path, text, language) : getSourceFile(path, language, ...rest));
  const program = ts.createProgram([example], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}
