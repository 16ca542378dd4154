#!/usr/bin/env node
// Local FHIR R4 server for carehub's tests and demo. See README.md.
//
//   node --experimental-websocket server.mjs --port 0 [--host 127.0.0.1] [--quiet] [--no-check-references]
//
// Prints exactly one line, `LISTENING <port>`, on stdout once it accepts connections; logs go to stderr.
import http from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

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
  --quiet                   no per-request log lines on stderr`;

function die(message, code = 2) {
  process.stderr.write(`fhir-server: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', maxBodyBytes: 64 * 1024 * 1024, checkReferences: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : die(`${arg} needs a value\n${USAGE}`));
    if (arg === '--port') opts.port = Number(value());
    else if (arg === '--host') opts.host = value();
    else if (arg === '--max-body-mb') opts.maxBodyBytes = Number(value()) * 1024 * 1024;
    else if (arg === '--check-references') opts.checkReferences = true;
    else if (arg === '--no-check-references') opts.checkReferences = false;
    else if (arg === '--quiet') opts.quiet = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    else die(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) die('--port must be 0..65535');
  if (!(opts.maxBodyBytes > 0)) die('--max-body-mb must be positive');
  // No authentication here: never offer it beyond this machine.
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

/** Reads the whole body, gunzipping if asked, within `limit` bytes both before and after. */
async function readBody(req, limit) {
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
  const { router, repo, config, medplumVersion } = fhirModule.createFhir({ checkReferences: opts.checkReferences });
  const stats = { requests: 0 };

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
    let body;
    if (['POST', 'PUT', 'PATCH'].includes(req.method)) body = await readBody(req, opts.maxBodyBytes);
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
    const status = getStatus(result);
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
    req.resume();
    if (req.method === 'GET' && path === '/__control/stats') {
      return send(res, 200, { requests: stats.requests, resources: repo.countByType() }, 'application/json');
    }
    if (req.method === 'POST' && path === '/__control/reset') {
      await serialized(() => {
        repo.clear();
        stats.requests = 0;
      });
      return send(res, 200, { reset: true }, 'application/json');
    }
    send(res, 404, { error: `no control endpoint ${req.method} ${path}` }, 'application/json');
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
        `reference checks ${opts.checkReferences ? 'on' : 'off'}\n`
    );
    process.stdout.write(`LISTENING ${port}\n`); // synchronous for pipes and files on Linux
  });
}

main().catch((err) => die(err.stack ?? String(err), 1));
