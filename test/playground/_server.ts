import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../_net";

/** A playground started exactly as the README says, `npm start`, with a temp DATA_DIR. */
export interface RunningPlayground {
  origin: string;
  /** Everything it printed so far. */
  output(): string;
  /** The demo key it printed on its first start, if any. */
  demoKey: string | undefined;
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

export async function startPlayground(dataDir: string, extraEnv: Record<string, string> = {}): Promise<RunningPlayground> {
  const port = await freePort();
  // A fresh shell: offline, fs storage, nothing inherited that would change the defaults.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
  for (const name of ["HOST", "STORAGE", "REDIS_URL", "ADMIN_SECRET", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"]) delete env[name];
  Object.assign(env, extraEnv);
  // Its own process group, so stopping it stops npm, tsx and node together.
  const child = spawn("npm", ["start", "--silent"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (data: Buffer) => (output += data));
  child.stderr!.on("data", (data: Buffer) => (output += data));
  await new Promise<void>((resolve, reject) => {
    const check = () => (/\n\s+curl /.test(output) ? resolve() : undefined);
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  return {
    origin: /agentgate playground: (http:\/\/\S+)/.exec(output)![1],
    output: () => output,
    demoKey: /Demo API key:\s+(a2a_[A-Za-z0-9]+)/.exec(output)?.[1],
    stop: () => stop(child),
  };
}

// --- internal ---

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, "SIGTERM");
  await exited;
  // npm exits before the server under it has finished its shutdown (the ledger's last
  // writes): wait until the whole process group is gone, so no file appears afterwards.
  const deadline = Date.now() + 10_000;
  while (groupAlive(child.pid!) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
