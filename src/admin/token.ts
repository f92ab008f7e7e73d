import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { createAPIError } from "../errors";

/**
 * How admin tokens are checked: an HS256 secret (random, at least 32 bytes: a shorter one
 * is refused at createGateway), a JWKS URL, or the host's own function.
 */
export type AdminAuthOptions =
  | { secret: string | Uint8Array; issuer?: string; audience?: string }
  | { jwks: string | URL; issuer?: string; audience?: string }
  | { verify: (token: string) => Promise<AdminIdentity | null> | AdminIdentity | null };

/** Who is calling the admin API: `sub` is the account id; `scopes` come from the `scope` claim. */
export interface AdminIdentity {
  accountId: string;
  scopes: string[];
}

/** The scope the host's payment side puts in a token to allow `POST /admin/billing/credit`. */
export const CREDIT_SCOPE = "billing:credit";

/** Builds the verifier once (the JWKS set is fetched lazily and cached by jose). */
export function createAdminVerifier(options: AdminAuthOptions | undefined): (token: string) => Promise<AdminIdentity> {
  if (!options) return async () => Promise.reject(invalidToken());
  if ("verify" in options) {
    return async (token) => {
      const identity = await Promise.resolve(options.verify(token)).catch(() => null);
      if (!identity?.accountId) throw invalidToken();
      return identity;
    };
  }
  const key = "secret" in options ? strongSecret(options.secret) : createRemoteJWKSet(new URL(options.jwks));
  // A token must expire: one without `exp` would be a password that never can be revoked.
  const verifyOptions = { issuer: options.issuer, audience: options.audience, algorithms: "secret" in options ? ["HS256"] : undefined, requiredClaims: ["exp", "sub"] };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], verifyOptions));
    } catch {
      throw invalidToken();
    }
    if (typeof payload.sub !== "string" || !payload.sub) throw invalidToken();
    return { accountId: payload.sub, scopes: scopesOf(payload) };
  };
}

/**
 * Signs an HS256 admin token for an account (the playground and tests use it; a real
 * host usually mints its own).
 *
 * @example
 * const token = await signAdminToken(secret, "acct_123", { expiresIn: "1h" })
 */
export async function signAdminToken(
  secret: string | Uint8Array,
  accountId: string,
  /** `expiresIn`: a jose time span ("30d") or seconds since the epoch. @default "1h" */
  options: { scopes?: string[]; expiresIn?: string | number; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(options.scopes?.length ? { scope: options.scopes.join(" ") } : {})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(accountId)
    .setIssuedAt();
  jwt = jwt.setExpirationTime(options.expiresIn ?? "1h");
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(strongSecret(secret));
}

// --- internal ---

/** The shortest HS256 secret accepted, in bytes: RFC 7518 (3.2) wants a key as long as the hash, 256 bits. */
const MIN_SECRET_BYTES = 32;

/**
 * The secret as bytes, refused when missing or shorter than 32 bytes: a short secret
 * can be guessed offline from any one token, and then anyone can mint admin tokens.
 */
function strongSecret(secret: string | Uint8Array | undefined): Uint8Array {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret instanceof Uint8Array ? secret : undefined;
  if (!bytes) throw new Error("[agentgate] `admin.secret` is missing: pass a random string of at least 32 bytes (e.g. `openssl rand -base64 32`), or `admin.jwks` or `admin.verify`");
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(
      `[agentgate] \`admin.secret\` is ${bytes.length} bytes; an HS256 secret must be at least ${MIN_SECRET_BYTES} bytes (256 bits, RFC 7518): use a random one, e.g. \`openssl rand -base64 32\``,
    );
  }
  return bytes;
}

function scopesOf(payload: JWTPayload): string[] {
  const scope = payload.scope ?? payload.scp;
  if (typeof scope === "string") return scope.split(/\s+/).filter(Boolean);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === "string");
  return [];
}

function invalidToken() {
  return createAPIError({ code: "invalid_admin_token", message: "A valid admin token is required: `Authorization: Bearer <JWT>`." });
}
