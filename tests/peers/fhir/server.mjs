#!/usr/bin/env node
// Local FHIR R4 server for carehub's tests and demo. See README.md.
//
//   node --experimental-websocket server.mjs --port 0 [--host 127.0.0.1] [--quiet] [--no-check-references]
//        [--auth client-id:client-secret [--token-ttl SECONDS] [--jwks FILE]] [--no-gzip] [--refuse-numeric-ids]
//        [--hl7-invariants]
//
// Prints exactly one line, `LISTENING <port>`, on stdout once it accepts connections; logs go to stderr.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { AssertionRefused, JwtClientAuth } from './token.mjs';

const FHIR_BASE = '/fhir/R4';
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json-patch+json']);
const gunzip = promisify(zlib.gunzip);

const USAGE = `usage: node --experimental-websocket server.mjs [options]
  --port N                  TCP port, 0 = any free port (default 0)
  --host ADDR               loopback address to bind (default 127.0.0.1)
  --max-body-mb N           request body limit, also after gunzip (default 64)
  --check-references        reject subject/device/extension references to missing resources (default)
  --no-check-references     do not check them
  --quiet                   no per-request log lines on stderr
  --auth ID:SECRET          OAuth2 client credentials: serve POST /oauth2/token and require
                            Authorization: Bearer <token> on every FHIR request (default: off)
  --token-ttl SECONDS       lifetime of an access token (default 300)
  --jwks FILE               the client may also authenticate with private_key_jwt (RFC 7523, SMART Backend
                            Services) signed by a key in this JWK Set; see token.mjs (needs --auth)
Modes that behave like real servers rather than like this peer's defaults:
  --no-gzip                 no request decompression, like Tomcat or nginx without gunzip in front of HAPI:
                            a Content-Encoding: gzip body reaches the FHIR parser as is and is refused
                            with 400 (not 415)
  --refuse-numeric-ids      PUT Type/<digits> of a resource that does not exist is refused with 400, like
                            HAPI's default client id strategy ALPHANUMERIC (HAPI-0960)
  --hl7-invariants          every created or updated resource must also pass ./conformance.mjs (a
                            spec-conformant FHIRPath engine: R4 invariants, vital-signs and PHD profiles),
                            as HAPI with request validation does; refused with 422 otherwise`;

function die(message, code = 2) {
  process.stderr.write(`fhir-server: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = {
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: 64 * 1024 * 1024,
    checkReferences: true,
    quiet: false,
    auth: undefined, // { clientId, clientSecret }
    tokenTtl: 300,
    jwks: undefined, // JWK Set file for private_key_jwt
    noGzip: false,
    refuseNumericIds: false,
    hl7Invariants: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : die(`${arg} needs a value\n${USAGE}`));
    if (arg === '--port') opts.port = Number(value());
    else if (arg === '--host') opts.host = value();
    else if (arg === '--max-body-mb') opts.maxBodyBytes = Number(value()) * 1024 * 1024;
    else if (arg === '--check-references') opts.checkReferences = true;
    else if (arg === '--no-check-references') opts.checkReferences = false;
    else if (arg === '--quiet') opts.quiet = true;
    else if (arg === '--auth') {
      const v = value();
      const colon = v.indexOf(':');
      if (colon <= 0 || colon === v.length - 1) die(`--auth needs client-id:client-secret, both non-empty, not '${v}'`);
      opts.auth = { clientId: v.slice(0, colon), clientSecret: v.slice(colon + 1) };
    } else if (arg === '--token-ttl') opts.tokenTtl = Number(value());
    else if (arg === '--jwks') opts.jwks = value();
    else if (arg === '--no-gzip') opts.noGzip = true;
    else if (arg === '--refuse-numeric-ids') opts.refuseNumericIds = true;
    else if (arg === '--hl7-invariants') opts.hl7Invariants = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    else die(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) die('--port must be 0..65535');
  if (!(opts.maxBodyBytes > 0)) die('--max-body-mb must be positive');
  if (!Number.isInteger(opts.tokenTtl) || opts.tokenTtl <= 0) die('--token-ttl must be a positive whole number of seconds');
  if (opts.jwks && !opts.auth) die('--jwks needs --auth (the client id the assertions name)');
  // Test credentials at most, no TLS: never offer it beyond this machine.
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(opts.host)) die(`--host must be a loopback address, not ${opts.host}`);
  return opts;
}

/** Fails early and clearly on a Node.js that cannot load Medplum 5. */
function checkRuntime() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    die(
      `Node.js ${process.version} is too old: Medplum 5 needs Node.js 20 or newer ` +
        `(Debian 12's nodejs package is 18). Install Node.js 20 or 22 and run again.`
    );
  }
  if (typeof globalThis.WebSocket === 'undefined') {
    die(
      `Node.js ${process.version} has no global WebSocket, which @medplum/core needs when it loads. ` +
        `Start it as: node --experimental-websocket server.mjs ... (built in from Node.js 22).`
    );
  }
}

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code; // OperationOutcome issue code
  }
}

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function send(res, status, body, contentType = FHIR_JSON, headers = {}) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

/** Reads the whole body, gunzipping if asked (unless `noGzip`), within `limit` bytes both before and after. */
async function readBody(req, limit, noGzip = false) {
  if (Number(req.headers['content-length']) > limit) {
    throw new HttpError(413, 'too-costly', `Request body larger than ${limit} bytes`);
  }
  const chunks = [];
  let size = 0;
  // Keep reading past the limit (and drop it): stopping early would reset the connection before
  // the client sees the 413.
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new HttpError(413, 'too-costly', `Request body larger than ${limit} bytes`);
  let buf = Buffer.concat(chunks);

  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (noGzip && encoding !== 'identity') {
    // What HAPI behind Tomcat answers: the compressed bytes reach its JSON parser (0x1f is gzip's first byte).
    throw new HttpError(
      400,
      'structure',
      `HAPI-1861: Failed to parse JSON encoded FHIR content: Unexpected character ('\u001f' (code 31)): ` +
        `expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`
    );
  }
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      buf = await gunzip(buf, { maxOutputLength: limit });
    } catch (err) {
      if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new HttpError(413, 'too-costly', `Decompressed request body larger than ${limit} bytes`);
      }
      throw new HttpError(400, 'invalid', `Bad gzip body: ${err.message}`);
    }
  } else if (encoding !== 'identity') {
    throw new HttpError(415, 'not-supported', `Unsupported Content-Encoding: ${encoding} (gzip or identity)`);
  }
  if (buf.length === 0) return undefined;

  const type = (req.headers['content-type'] ?? 'application/fhir+json').split(';')[0].trim().toLowerCase();
  const text = buf.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(text)); // POST Type/_search
  }
  if (!JSON_TYPES.has(type)) {
    throw new HttpError(415, 'not-supported', `Unsupported Content-Type: ${type} (use application/fhir+json)`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'structure', `Body is not valid JSON: ${err.message}`);
  }
}

/** Reads a small body (token and control requests) as text; anything larger is refused. */
async function readSmallBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}

const TOKEN_PATH = '/oauth2/token';
const REALM = 'carehub-test-fhir';

/** An RFC 6749 §5.2 error response. */
class OAuthError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

/** `application/x-www-form-urlencoded` decoding of one credential (RFC 6749 §2.3.1, Appendix B). */
function formDecode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError(401, 'invalid_client', 'HTTP Basic credentials are not form-urlencoded (RFC 6749 §2.3.1)');
  }
}

// Constant time, as a real authorization server compares credentials.
function equalInConstantTime(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * OAuth2 client credentials grant (RFC 6749 §4.4) for one configured client, and the bearer check
 * (RFC 6750) every FHIR request passes. Tokens are opaque random strings kept in memory.
 *
 * Expiry uses the monotonic clock plus an offset that POST /__control/advance-clock moves, so a test
 * can expire tokens by their lifetime without waiting for it, and a wall-clock step cannot.
 */
class TokenService {
  constructor({ clientId, clientSecret }, ttlSeconds) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.ttlSeconds = ttlSeconds;
    this.tokens = new Map(); // token -> { expiresAt (ms on now()), revoked }
    this.clockOffsetMs = 0;
    this.issued = 0;
    this.rejectedRequests = 0;
  }

  now() {
    return performance.now() + this.clockOffsetMs;
  }

  /** POST /oauth2/token. Answers the response itself; returns a note for the log line. */
  async handle(req, res) {
    const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
    try {
      if (req.method !== 'POST') {
        req.resume();
        throw new OAuthError(405, 'invalid_request', `${req.method} ${TOKEN_PATH}: use POST`);
      }
      const text = await readSmallBody(req);
      if (text === undefined) throw new OAuthError(400, 'invalid_request', 'token request body larger than 64 KiB');
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        throw new OAuthError(
          400,
          'invalid_request',
          `Content-Type must be application/x-www-form-urlencoded, not ${type || '(none)'}`
        );
      }
      const params = new URLSearchParams(text);
      for (const key of new Set(params.keys())) {
        if (params.getAll(key).length > 1) throw new OAuthError(400, 'invalid_request', `parameter ${key} appears more than once`);
      }
      const grantType = params.get('grant_type');
      if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is missing');

      const client = this.authenticate(req.headers.authorization, params, `http://${req.headers.host}${TOKEN_PATH}`);
      if (grantType !== 'client_credentials') {
        throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported: only client_credentials`);
      }
      const token = randomBytes(24).toString('base64url');
      this.tokens.set(token, { expiresAt: this.now() + this.ttlSeconds * 1000, revoked: false });
      this.issued++;
      const body = { access_token: token, token_type: 'Bearer', expires_in: this.ttlSeconds };
      const scope = params.get('scope');
      if (scope !== null) body.scope = scope;
      send(res, 200, body, 'application/json; charset=utf-8', noStore);
      return ` [token issued to ${client}]`;
    } catch (err) {
      if (!(err instanceof OAuthError || err instanceof AssertionRefused)) throw err;
      const headers = { ...noStore };
      if (err.status === 401) headers['www-authenticate'] = `Basic realm="${REALM}"`;
      if (err.status === 405) headers.allow = 'POST';
      send(res, err.status, { error: err.error, error_description: err.message }, 'application/json; charset=utf-8', headers);
      return ` [${err.error}: ${err.message}]`;
    }
  }

  /** The client's id if it authenticated, by HTTP Basic or by body parameters (never both). */
  authenticate(authorization, params, tokenUrl) {
    if (params.has('client_assertion') || params.has('client_assertion_type')) {
      if (!this.jwt) throw new OAuthError(401, 'invalid_client', 'client assertions are off (start with --jwks FILE)');
      if (authorization || params.has('client_secret')) {
        throw new OAuthError(400, 'invalid_request', 'a client assertion and a secret both: use one method');
      }
      return this.jwt.authenticate(params, tokenUrl);
    }
    let basic;
    const scheme = /^\s*(\S+)\s*(.*)$/.exec(authorization ?? '');
    if (scheme && scheme[1].toLowerCase() === 'basic') {
      const encoded = scheme[2].trim();
      const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError(401, 'invalid_client', 'malformed HTTP Basic credentials (want base64 of id:secret)');
      basic = { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    }
    const bodyId = params.get('client_id');
    const bodySecret = params.get('client_secret');
    if (basic && (bodySecret !== null || (bodyId !== null && bodyId !== basic.id))) {
      throw new OAuthError(400, 'invalid_request', 'client credentials sent both as HTTP Basic and in the body: use one method');
    }
    const client = basic ?? (bodyId !== null ? { id: bodyId, secret: bodySecret ?? '' } : undefined);
    if (!client) {
      throw new OAuthError(401, 'invalid_client', 'no client authentication: send HTTP Basic, or client_id and client_secret');
    }
    if (!equalInConstantTime(client.id, this.clientId) || !equalInConstantTime(client.secret, this.clientSecret)) {
      throw new OAuthError(401, 'invalid_client', `client authentication failed for client_id ${client.id}`);
    }
    return client.id;
  }

  /** Undefined when the request may pass, else why not: { challenge, code, text } for a 401. */
  check(authorization) {
    const refuse = (code, text, error = 'invalid_token') => {
      this.rejectedRequests++;
      // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
      const challenge = error ? `Bearer realm="${REALM}", error="${error}", error_description="${text}"` : `Bearer realm="${REALM}"`;
      return { challenge, code, text };
    };
    if (!authorization) return refuse('login', 'no Authorization header: get a token from POST /oauth2/token', '');
    const m = /^\s*Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
    if (!m) return refuse('login', 'Authorization header is not "Bearer <token>"');
    const token = this.tokens.get(m[1]);
    if (!token) return refuse('security', 'unknown access token');
    if (token.revoked) return refuse('expired', 'access token revoked (POST /__control/expire-tokens)');
    if (this.now() >= token.expiresAt) return refuse('expired', 'access token expired');
    return undefined;
  }

  /** Rotation: every token issued so far stops working at once. */
  expireAll() {
    let n = 0;
    for (const token of this.tokens.values()) {
      if (!token.revoked) n++;
      token.revoked = true;
    }
    return n;
  }
}

const REJECTED_ID = /^carehub-test-rejected-(\d{3})$/;

/**
 * Test rules that make the creation of resources carrying a given identifier fail with a given
 * status: a "poison entry" for the client's isolation logic, on a resource the validator accepts.
 * The OperationOutcome's id carries the status through Medplum (whose getStatus() knows only its own
 * outcome ids) to where the response status is set (statusOf, fixBatchStatuses).
 */
class RejectionRules {
  constructor() {
    this.rules = new Map(); // "system|value" -> status
    this.rejected = 0;
  }

  /** POST /__control/reject: returns an error text for a bad request, else undefined. */
  apply(body) {
    if (body?.clear === true) {
      this.rules.clear();
      return undefined;
    }
    const { identifier, status } = body ?? {};
    if (typeof identifier !== 'string' || !identifier.includes('|')) {
      return `identifier must be a string "system|value", got ${JSON.stringify(identifier)}`;
    }
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      return `status must be a whole number 400..599, got ${JSON.stringify(status)}`;
    }
    this.rules.set(identifier, status);
    return undefined;
  }

  /** The rejection outcome for a resource to be created, or undefined. */
  check(resource) {
    if (this.rules.size === 0 || !Array.isArray(resource?.identifier)) return undefined;
    for (const id of resource.identifier) {
      const key = `${id?.system ?? ''}|${id?.value ?? ''}`;
      const status = this.rules.get(key);
      if (status === undefined) continue;
      this.rejected++;
      return {
        resourceType: 'OperationOutcome',
        id: `carehub-test-rejected-${status}`,
        issue: [
          {
            severity: 'error',
            code: 'processing',
            details: { text: `${resource.resourceType} with identifier ${key} rejected with ${status} by a test rule (POST /__control/reject)` },
          },
        ],
      };
    }
    return undefined;
  }

  static statusOf(outcome) {
    const m = REJECTED_ID.exec(outcome?.id ?? '');
    return m ? Number(m[1]) : undefined;
  }

  /** Batch entries whose create was rejected get the rule's status instead of Medplum's 400. */
  static fixBatchStatuses(resource) {
    if (resource?.resourceType !== 'Bundle' || !resource.type?.endsWith('-response')) return;
    for (const entry of resource.entry ?? []) {
      const status = RejectionRules.statusOf(entry?.response?.outcome);
      if (status !== undefined) entry.response.status = String(status);
    }
  }
}

/** One line per bundle response, so a test log shows partial failures at a glance. */
function bundleSummary(resource) {
  if (resource?.resourceType !== 'Bundle' || !resource.type?.endsWith('-response')) return '';
  const entries = resource.entry ?? [];
  const failed = entries.filter((e) => !e?.response?.status?.startsWith('2')).length;
  return ` [${resource.type} ${entries.length} entries, ${failed} failed]`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  checkRuntime();

  let fhirModule;
  try {
    fhirModule = await import('./fhir.mjs');
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND') {
      die(`${err.message}\nRun \`npm ci\` in ${dirname(fileURLToPath(import.meta.url))} first.`);
    }
    throw err;
  }
  const { getStatus } = fhirModule;
  let validate;
  if (opts.hl7Invariants) {
    // The conformance checker (tests/peers/fhir/conformance.mjs) is optional: say clearly when it is absent.
    let conformance;
    try {
      conformance = await import('./conformance.mjs');
    } catch (err) {
      die(`--hl7-invariants needs ./conformance.mjs (exporting validate) and its packages: ${err.message}`);
    }
    if (typeof conformance.validate !== 'function') die('--hl7-invariants: ./conformance.mjs exports no validate function');
    validate = (resource) => conformance.validate(resource).filter((i) => i.severity === 'error');
    // The first call loads the R4 definitions (~1 s): before LISTENING, not inside a client's request timeout.
    validate({ resourceType: 'Basic', code: { text: 'warm-up' } });
  }
  const { router, repo, config, medplumVersion } = fhirModule.createFhir({
    checkReferences: opts.checkReferences,
    refuseNumericIds: opts.refuseNumericIds,
    validate,
  });
  const stats = { requests: 0, lostAnswers: 0 };
  // POST /__control/lose-answers: requests that write a resource of this type are processed in full, then
  // their connection is closed without an answer (a commit whose answer is lost on the way back).
  // `where` (optional): top-level fields the resource must have, e.g. {"severity":"high"} for a red alert.
  const lose = { resourceType: undefined, where: {}, count: 0 };
  const matches = (r) =>
    r?.resourceType === lose.resourceType && Object.entries(lose.where).every(([k, v]) => JSON.stringify(r[k]) === JSON.stringify(v));
  const writes = (body) =>
    matches(body) || (body?.resourceType === 'Bundle' && (body.entry ?? []).some((e) => matches(e?.resource)));
  const tokens = opts.auth ? new TokenService(opts.auth, opts.tokenTtl) : undefined;
  // private_key_jwt: assertions are judged on the same movable clock as the tokens, in wall-clock seconds.
  if (opts.jwks) tokens.jwt = JwtClientAuth.fromFile(opts.auth.clientId, opts.jwks, () => (Date.now() + tokens.clockOffsetMs) / 1000);
  const rejections = new RejectionRules();

  // Every create, single or in a bundle, runs this route's handler (the batch processor calls route
  // handlers directly), so the rejection rules sit in front of it.
  const createRoute = router.router.routes.find((r) => r.method === 'POST' && r.path.length === 1 && r.path[0].param);
  const create = createRoute.handler;
  createRoute.handler = async (req, ...rest) => {
    const rejected = rejections.check(req.body);
    return rejected ? [rejected] : create(req, ...rest);
  };

  // One request at a time touches the repository: the in-memory repo's transactions rely on it
  // (see repository.mjs), and it makes every conditional create race-free. Bodies are still read
  // and parsed concurrently.
  let tail = Promise.resolve();
  const serialized = (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };

  async function handleFhir(req, res, path, query) {
    stats.requests++;
    const refused = tokens?.check(req.headers.authorization);
    if (refused) {
      req.resume();
      res.logNote = ` [${refused.text}]`;
      return send(res, 401, outcome(refused.code, refused.text), FHIR_JSON, { 'www-authenticate': refused.challenge });
    }
    let body;
    if (['POST', 'PUT', 'PATCH'].includes(req.method)) body = await readBody(req, opts.maxBodyBytes, opts.noGzip);
    else req.resume(); // discard any body of GET/DELETE
    const fhirRequest = {
      method: req.method,
      url: path.slice(FHIR_BASE.length).replace(/^\/+/, '') + query,
      pathname: '', // the router fills it in; it refuses requests that already have one
      params: {},
      query: {},
      body,
      headers: req.headers, // If-None-Exist, If-Match
      config,
    };
    const [result, resource] = await serialized(() => router.handleRequest(fhirRequest, repo));
    if (lose.count > 0 && req.method !== 'GET' && writes(body)) {
      lose.count--;
      stats.lostAnswers++;
      res.logNote = ' [answer lost: POST /__control/lose-answers]';
      return res.destroy();
    }
    const status = RejectionRules.statusOf(result) ?? getStatus(result);
    RejectionRules.fixBatchStatuses(resource);
    const headers = {};
    const meta = resource?.meta;
    if (resource?.id && meta?.versionId && resource.resourceType !== 'Bundle') {
      headers.etag = `W/"${meta.versionId}"`;
      if (meta.lastUpdated) headers['last-modified'] = new Date(meta.lastUpdated).toUTCString();
      if (status === 201) {
        headers.location = `http://${req.headers.host}${FHIR_BASE}/${resource.resourceType}/${resource.id}/_history/${meta.versionId}`;
      }
    }
    res.logNote = bundleSummary(resource);
    send(res, status, resource ?? result, FHIR_JSON, headers);
  }

  async function handleControl(req, res, path) {
    const text = await readSmallBody(req);
    const json = (status, body) => send(res, status, body, 'application/json');
    let body;
    try {
      body = text ? JSON.parse(text) : {};
    } catch (err) {
      return json(400, { error: `${req.method} ${path}: body is not JSON: ${err.message}` });
    }
    const route = `${req.method} ${path}`;
    if (route === 'GET /__control/stats') {
      return json(200, {
        requests: stats.requests,
        lost_answers: stats.lostAnswers,
        resources: repo.countByType(),
        tokens: { issued: tokens?.issued ?? 0, rejected_requests: tokens?.rejectedRequests ?? 0,
                  jwt_accepted: tokens?.jwt?.accepted ?? 0, jwt_refused: tokens?.jwt?.refused ?? 0 },
        rejections: { rules: rejections.rules.size, rejected: rejections.rejected },
      });
    }
    if (route === 'POST /__control/reset') {
      await serialized(() => {
        repo.clear();
        stats.requests = 0;
        rejections.rejected = 0;
        if (tokens) tokens.issued = tokens.rejectedRequests = 0;
        if (tokens?.jwt) tokens.jwt.accepted = tokens.jwt.refused = 0;
      });
      return json(200, { reset: true });
    }
    if (route === 'POST /__control/lose-answers') {
      const { resourceType, count, where = {} } = body ?? {};
      if (typeof resourceType !== 'string' || !Number.isInteger(count) || count < 0 || typeof where !== 'object' || !where) {
        return json(400, { error: `${route}: want {"resourceType":"DetectedIssue","count":1[,"where":{…}]}, got ${text}` });
      }
      await serialized(() => Object.assign(lose, { resourceType, count, where }));
      return json(200, { resourceType, count, where });
    }
    if (route === 'POST /__control/reject') {
      // Serialized: a rule changes only between requests, never in the middle of a bundle.
      const error = await serialized(() => rejections.apply(body));
      if (error) return json(400, { error: `POST /__control/reject: ${error}` });
      return json(200, { rules: Object.fromEntries(rejections.rules) });
    }
    if (route === 'POST /__control/jwks') {
      // The server's side of a key rotation: the client's registered keys become exactly these.
      if (!tokens?.jwt) return json(409, { error: `${route}: private_key_jwt is off (start with --jwks FILE)` });
      try {
        return json(200, { kids: tokens.jwt.replaceKeys(body) });
      } catch (err) {
        return json(400, { error: `${route}: ${err.message}` });
      }
    }
    if (route === 'POST /__control/expire-tokens' || route === 'POST /__control/advance-clock') {
      if (!tokens) return json(409, { error: `${route}: authentication is off (start with --auth id:secret)` });
      if (route === 'POST /__control/expire-tokens') return json(200, { expired: tokens.expireAll() });
      if (!(typeof body.seconds === 'number' && body.seconds >= 0)) {
        return json(400, { error: `${route}: seconds must be a number >= 0, got ${JSON.stringify(body.seconds)}` });
      }
      tokens.clockOffsetMs += body.seconds * 1000;
      return json(200, { advanced_s: tokens.clockOffsetMs / 1000 });
    }
    json(404, { error: `no control endpoint ${route}` });
  }

  const server = http.createServer(async (req, res) => {
    const started = process.hrtime.bigint();
    if (!opts.quiet) {
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        process.stderr.write(`${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms${res.logNote ?? ''}\n`);
      });
    }
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? '' : req.url.slice(q);
    try {
      if (path === FHIR_BASE || path.startsWith(FHIR_BASE + '/')) {
        await handleFhir(req, res, path, query);
      } else if (path.startsWith('/__control/')) {
        await handleControl(req, res, path);
      } else if (path === TOKEN_PATH && tokens) {
        res.logNote = await tokens.handle(req, res);
      } else {
        req.resume();
        send(res, 404, outcome('not-found', `Not found: ${path} (FHIR base is ${FHIR_BASE})`));
      }
    } catch (err) {
      if (!(err instanceof HttpError)) process.stderr.write(`fhir-server: ${err.stack ?? err}\n`);
      if (res.headersSent) return res.destroy();
      const status = err instanceof HttpError ? err.status : 500;
      const headers = status === 413 ? { connection: 'close' } : {};
      send(res, status, outcome(err.code ?? 'exception', err.message), FHIR_JSON, headers);
    }
  });

  const shutdown = (signal) => {
    if (!opts.quiet) process.stderr.write(`fhir-server: ${signal}, stopping\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  server.on('error', (err) => die(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`, 1));
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    process.stderr.write(
      `fhir-server: Medplum ${medplumVersion}, FHIR base http://${opts.host}:${port}${FHIR_BASE}, ` +
        `reference checks ${opts.checkReferences ? 'on' : 'off'}, ` +
        `${opts.noGzip ? 'no request decompression, ' : ''}${opts.refuseNumericIds ? 'numeric client ids refused, ' : ''}` +
        `${opts.hl7Invariants ? 'HL7 invariants checked, ' : ''}` +
        `${tokens ? `OAuth2 on (token URL http://${opts.host}:${port}${TOKEN_PATH}, ttl ${opts.tokenTtl} s)` : 'no authentication'}\n`
    );
    process.stdout.write(`LISTENING ${port}\n`); // synchronous for pipes and files on Linux
  });
}

main().catch((err) => die(err.stack ?? String(err), 1));
