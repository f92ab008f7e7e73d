import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The playground's settings, from the environment (see the README's table). */
export interface PlaygroundConfig {
  port: number;
  host: string;
  storage: "fs" | "memory" | "redis";
  dataDir: string;
  /** One Redis, or a Redis Cluster's node URLs (REDIS_URL with commas). */
  redisUrl?: string | string[];
  adminSecret: string;
  openai?: { apiKey: string; baseURL?: string };
  anthropic?: { apiKey: string; baseURL?: string };
  gemini?: { apiKey: string; baseURL?: string };
  /** Per agent; 0 turns a limit off. */
  requestsPerMinute: number;
  tokensPerMinute: number;
  upstreamTimeoutMs: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): PlaygroundConfig {
  // REDIS_URL=redis://a:7000,redis://b:7001,…: a Redis Cluster, given by its nodes.
  const nodes = (env.REDIS_URL ?? "").split(",").map((url) => url.trim()).filter(Boolean);
  const cluster = nodes.length > 1;
  const storage = (env.STORAGE ?? (env.REDIS_URL && !cluster ? "redis" : "fs")) as PlaygroundConfig["storage"];
  if (!["fs", "memory", "redis"].includes(storage)) throw new Error(`STORAGE must be fs, memory or redis (got ${storage})`);
  if (storage === "redis" && !env.REDIS_URL) throw new Error("STORAGE=redis needs REDIS_URL");
  if (storage === "redis" && cluster) throw new Error("STORAGE=redis needs one Redis: on a Redis Cluster (REDIS_URL with commas) keep the documents with STORAGE=fs or memory");
  const dataDir = resolve(env.DATA_DIR ?? ".data");
  const vendor = (key?: string, baseURL?: string) => (key ? { apiKey: key, baseURL: baseURL || undefined } : undefined);
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? "127.0.0.1",
    storage,
    dataDir,
    redisUrl: cluster ? nodes : nodes[0],
    adminSecret: env.ADMIN_SECRET || persistedSecret(dataDir),
    openai: vendor(env.OPENAI_API_KEY, env.OPENAI_BASE_URL),
    anthropic: vendor(env.ANTHROPIC_API_KEY, env.ANTHROPIC_BASE_URL),
    gemini: vendor(env.GEMINI_API_KEY, env.GEMINI_BASE_URL),
    requestsPerMinute: wholeNumber(env, "REQUESTS_PER_MINUTE", 60),
    tokensPerMinute: wholeNumber(env, "TOKENS_PER_MINUTE", 200_000),
    upstreamTimeoutMs: wholeNumber(env, "UPSTREAM_TIMEOUT_MS", 120_000),
  };
}

/**
 * The URL to print for people to open: a wildcard bind address (HOST=0.0.0.0 or ::) is not
 * one a browser can visit, localhost is; an IPv6 address needs brackets.
 */
export function browserURL(host: string, port: number): string {
  const name = ["0.0.0.0", "::", "[::]", ""].includes(host) ? "localhost" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number (got ${raw})`);
  return value;
}

/** ADMIN_SECRET when none is given: generated on the first start, then read from DATA_DIR. */
function persistedSecret(dataDir: string): string {
  const file = join(dataDir, "admin-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
