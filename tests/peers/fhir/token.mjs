// private_key_jwt client authentication at the peer's token endpoint (RFC 7523 §2.2 and §3, as the SMART
// Backend Services profile asks): the client sends a JWT it signed instead of a secret, and this checks it
// against the public keys registered for the client (a JWK Set, as a technician registers it in Keycloak
// or a HAPI-based server). Every refusal is `invalid_client` with the reason, so a test can tell them apart.
//
// Checked, in this order: the assertion type; three base64url parts of JSON; alg in the allow-list
// (RS384, ES384: never `none` or an HMAC, which would let anyone holding the public key sign); a registered
// key with the header's kid and a matching type; the signature; iss = sub = the client id; aud = this
// token URL; exp in the future and at most 5 minutes after iat; a jti not seen before (replay).
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALGORITHMS = { RS384: { kty: 'RSA' }, ES384: { kty: 'EC', crv: 'P-384' } };
const MAX_LIFETIME_S = 300; // SMART Backend Services: exp no more than five minutes ahead

/** Refused client authentication: the token endpoint answers 401 invalid_client with `message`. */
export class AssertionRefused extends Error {
  constructor(message) {
    super(message);
    this.status = 401;
    this.error = 'invalid_client';
  }
}

function decodeJson(part, what) {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new AssertionRefused(`client_assertion ${what} is not base64url`);
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // falls through to the refusal
  }
  throw new AssertionRefused(`client_assertion ${what} is not a JSON object`);
}

/** A JWK Set as {kid: {jwk, key}}; throws on anything a server would refuse to register. */
export function parseJwks(jwks) {
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('a JWK Set is {"keys":[...]}');
  const keys = new Map();
  for (const jwk of jwks.keys) {
    if (typeof jwk?.kid !== 'string' || !jwk.kid) throw new Error('every registered key needs a kid');
    if ('d' in jwk) throw new Error(`key ${jwk.kid} holds a private part: register public keys only`);
    keys.set(jwk.kid, { jwk, key: createPublicKey({ key: jwk, format: 'jwk' }) });
  }
  return keys;
}

export class JwtClientAuth {
  /** `now()`: the peer's clock in seconds (it moves with POST /__control/advance-clock). */
  constructor(clientId, jwks, now) {
    this.clientId = clientId;
    this.keys = parseJwks(jwks);
    this.now = now;
    this.seenJti = new Map(); // jti -> exp: kept until it expires, when a replay would fail on exp anyway
    this.accepted = 0;
    this.refused = 0;
  }

  static fromFile(clientId, file, now) {
    return new JwtClientAuth(clientId, JSON.parse(readFileSync(file, 'utf8')), now);
  }

  /** Rotation on the server's side: the registered keys become exactly these. */
  replaceKeys(jwks) {
    this.keys = parseJwks(jwks);
    return [...this.keys.keys()];
  }

  /** The client id when `params` carry a valid assertion for `tokenUrl`; else throws AssertionRefused. */
  authenticate(params, tokenUrl) {
    try {
      const id = this.check(params, tokenUrl);
      this.accepted++;
      return id;
    } catch (err) {
      if (err instanceof AssertionRefused) this.refused++;
      throw err;
    }
  }

  check(params, tokenUrl) {
    if (params.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw new AssertionRefused(`client_assertion_type must be ${ASSERTION_TYPE}`);
    }
    const jwt = params.get('client_assertion') ?? '';
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new AssertionRefused('client_assertion is not a JWS in compact form (header.payload.signature)');
    const header = decodeJson(parts[0], 'header');
    const claims = decodeJson(parts[1], 'payload');

    if (!Object.hasOwn(ALGORITHMS, header.alg)) {
      throw new AssertionRefused(`alg ${JSON.stringify(header.alg)} is not allowed: RS384 or ES384`);
    }
    const registered = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!registered) throw new AssertionRefused(`no registered key has kid ${JSON.stringify(header.kid)}`);
    const want = ALGORITHMS[header.alg];
    const { jwk, key } = registered;
    if (jwk.kty !== want.kty || (want.crv && jwk.crv !== want.crv)) {
      throw new AssertionRefused(`key ${header.kid} is ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}, not a key for ${header.alg}`);
    }
    const signature = Buffer.from(parts[2], 'base64url');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    // ES384 in JOSE is raw r||s (IEEE P1363), not DER.
    let ok = false;
    try {
      ok = verify('sha384', signed, header.alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
    } catch {
      // a signature of the wrong shape: refused below like any other that does not verify
    }
    if (!ok) throw new AssertionRefused(`signature does not verify against registered key ${header.kid}`);

    if (claims.iss !== this.clientId || claims.sub !== this.clientId) {
      throw new AssertionRefused(`iss and sub must both be the client id ${this.clientId} (iss ${claims.iss}, sub ${claims.sub})`);
    }
    const clientIdParam = params.get('client_id');
    if (clientIdParam !== null && clientIdParam !== this.clientId) {
      throw new AssertionRefused(`client_id ${clientIdParam} is not the assertion's ${this.clientId}`);
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(tokenUrl)) throw new AssertionRefused(`aud must be this token URL ${tokenUrl}, not ${JSON.stringify(claims.aud)}`);

    const now = this.now();
    if (!Number.isFinite(claims.exp)) throw new AssertionRefused('exp is missing or not a number');
    if (claims.exp <= now) throw new AssertionRefused(`assertion expired ${Math.round(now - claims.exp)} s ago (exp ${claims.exp})`);
    const issued = Number.isFinite(claims.iat) ? claims.iat : now;
    if (claims.exp - issued > MAX_LIFETIME_S || claims.exp - now > MAX_LIFETIME_S) {
      throw new AssertionRefused(`exp is more than ${MAX_LIFETIME_S} s after iat (or now): SMART allows five minutes`);
    }
    if (typeof claims.jti !== 'string' || !claims.jti) throw new AssertionRefused('jti is missing');
    for (const [jti, exp] of this.seenJti) if (exp <= now) this.seenJti.delete(jti);
    if (this.seenJti.has(claims.jti)) throw new AssertionRefused(`jti ${claims.jti} was already used (replay)`);
    this.seenJti.set(claims.jti, claims.exp);
    return this.clientId;
  }
}
