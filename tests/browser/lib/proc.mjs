// Child processes for the browser tests: each test starts its peers through a Scope, which stops them (in
// reverse order) when the test ends, pass or fail, and prints their logs when it failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
// ctest passes the tree it built (CAREHUB_BUILD_DIR); by hand the shared build/ is meant.
export const BUILD = process.env.CAREHUB_BUILD_DIR ?? path.join(ROOT, 'build');

// Every child still running when node exits (a test that threw before its cleanup ran) gets SIGKILL:
// nothing outlives the suite.
const live = new Set();
process.on('exit', () => {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// One started process: stdout is read line by line (waitLine), stderr goes to its log file.
export class Child {
  #resolveExit;

  constructor(name, argv, { env = {}, log, cwd } = {}) {
    this.name = name;
    this.log = log;
    const err = fs.openSync(log, 'a');
    this.proc = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, cwd, stdio: ['pipe', 'pipe', err] });
    fs.closeSync(err);
    live.add(this.proc);
    this.lines = [];
    this.waiters = [];
    this.exited = new Promise((resolve) => {
      this.#resolveExit = resolve;
      this.proc.on('exit', (code, signal) => {
        live.delete(this.proc);
        this.exitCode = code ?? 128 + (os.constants.signals[signal] ?? 0);
        resolve(this.exitCode);
        this.#wake();
      });
    });
    // A process that could not start (a binary being rebuilt: EACCES) emits no 'exit': end it here, so
    // nobody waits on it for its whole deadline.
    this.proc.on('error', (e) => {
      fs.appendFileSync(log, `spawn failed: ${e.message}\n`);
      if (this.exitCode === undefined) {
        live.delete(this.proc);
        this.exitCode = 127;
        this.#resolveExit(127);
        this.#wake();
      }
    });
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.lines.push(line);
      fs.appendFileSync(log, `[stdout] ${line}\n`);
      this.#wake();
    });
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  get running() { return this.exitCode === undefined; }

  // The first stdout line from index `from` on that `pred` accepts; throws with the log after `ms` or
  // when the process exits first. Returns {line, index}.
  async waitLine(pred, { from = 0, ms = 30000 } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.lines.length; ++i) {
        if (pred(this.lines[i])) return { line: this.lines[i], index: i };
      }
      if (!this.running) throw new Error(`${this.name} exited (${this.exitCode}) first; its log:\n${tail(this.log)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no such line within ${ms} ms; its log:\n${tail(this.log)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  signal(sig) {
    if (this.running) this.proc.kill(sig);
  }

  // SIGTERM, then SIGKILL if it has not exited after `ms`; the exit code.
  async stop(ms = 10000) {
    if (!this.running) return this.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

export function tail(file, bytes = 6000) {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.length > bytes ? '…' + s.slice(-bytes) : s;
  } catch {
    return '(no log)';
  }
}

// Runs a command to its end: {code, out, err}. `input` goes to its stdin.
export function run(argv, { input = '', env = {}, ms = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(t);
      live.delete(p);
      resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 0), out, err });
    });
    p.stdin.on('error', () => {});  // a command that exits without reading its stdin
    p.stdin.end(input);
  });
}

// Polls `pred` (sync or async) until it returns a truthy value, which it returns; throws `what` after `ms`.
// For states only observable by asking (a store row, a FHIR resource): never a sleep as synchronisation.
export async function eventually(pred, what, ms = 15000, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await pred();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// One test's temporary directory and the things it started, undone in reverse order by close().
export class Scope {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `carehub-browser-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-`));
    this.cleanups = [];
    this.logs = [];
  }

  file(name) { return path.join(this.dir, name); }

  defer(fn) { this.cleanups.push(fn); }

  // Runs the cleanups; with `failed`, prints every log first (the only trace a CI run leaves) and keeps
  // the directory.
  async close(failed) {
    if (failed) {
      for (const log of this.logs) process.stderr.write(`\n----- ${path.basename(log)} -----\n${tail(log, 12000)}\n`);
    }
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch (e) { process.stderr.write(`cleanup: ${e.message}\n`); }
    }
    if (failed) process.stderr.write(`kept ${this.dir}\n`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
