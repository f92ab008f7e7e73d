import type { TestProject } from "vitest/node";
import { startRedis, type RedisServer } from "./_redis";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: RedisServer | undefined;

/** One real redis-server for the whole run; suites use their own key prefixes or DB numbers. */
export async function setup(project: TestProject): Promise<void> {
  redis = await startRedis();
  project.provide("redisUrl", redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
