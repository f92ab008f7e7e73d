import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createGateway, signAdminToken } from "../../src/index";
import { startGateway } from "../_setup";

describe("the admin HS256 secret", () => {
  it("is refused at createGateway when shorter than 32 bytes, as text or as bytes", () => {
    for (const secret of ["a", "change-me", "x".repeat(31), new Uint8Array(31), new Uint8Array(0)]) {
      expect(() => createGateway({ admin: { secret } }), String(secret)).toThrow(/at least 32 bytes/);
    }
  });

  it("is refused at createGateway when missing, as an unset environment variable would leave it", () => {
    expect(() => createGateway({ admin: { secret: process.env.AGENTGATE_TEST_UNSET_SECRET! } })).toThrow(/`admin.secret` is missing/);
  });

  it("is counted in bytes: 16 two-byte characters are enough", async () => {
    const gateway = createGateway({ admin: { secret: "é".repeat(16) } });
    await gateway.close();
  });

  it("of 32 random bytes works over HTTP, and a token forged with a guessable secret does not", async () => {
    const secret = randomBytes(32).toString("base64url");
    const t = await startGateway({ admin: { secret } });
    try {
      const list = (token: string) => fetch(`${t.origin}/api/admin/agents`, { headers: { authorization: `Bearer ${token}` } }).then((res) => res.status);
      expect(await list(await signAdminToken(secret, "acct_secret"))).toBe(200);
      const forged = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("acct_secret").setExpirationTime("1h").sign(new TextEncoder().encode("a"));
      expect(await list(forged)).toBe(401);
    } finally {
      await t.close();
    }
  });

  it("is refused by signAdminToken too when short, so no one mints tokens no gateway should accept", async () => {
    await expect(signAdminToken("a", "acct_secret")).rejects.toThrow(/at least 32 bytes/);
  });
});
