// The peers a browser test runs against, each started for one test and stopped with it (Scope):
// carehubd with a generated configuration, carehub-web, the FHIR peer (tests/peers/fhir), the simulated
// BLE kit (a private dbus-daemon, python3-dbusmock's bluez5 template, tests/peers/ble/kit.py), and a
// network namespace standing for a tablet on the home network.
import fs from 'node:fs';
import path from 'node:path';
import { BUILD, Child, ROOT, eventually, run, tail } from './proc.mjs';

const CTL = path.join(BUILD, 'daemon', 'carehubctl');
const WEB = path.join(BUILD, 'web', 'server', 'carehub-web');

export function jsonLines(out) {
  return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// RFC 3339 to the millisecond, `minutesAgo` before now.
export function ago(minutes) {
  return new Date(Date.now() - minutes * 60000).toISOString();
}

export function bp(systolic, diastolic, time, device = 'cuff-1', pulse = 72) {
  return { kind: 'blood-pressure', time, device, values: { systolic, diastolic, pulse } };
}

export function weight(kg, time, device = 'scale-1') {
  return { kind: 'body-weight', time, device, values: { value: kg } };
}

export class Carehubd {
  // `fhirUrl` empty = buffer only. config() may be edited before start(); `env` goes to carehubd.
  constructor(scope, { fhirUrl = '', env = {} } = {}) {
    this.scope = scope;
    this.env = env;
    this.socket = scope.file('control.sock');
    this.config = {
      hub: { id: 'hub-browser', patient: 'Patient/test-patient' },
      // The buffer is encrypted at rest (issue 18): carehubd exits 2 without a key. A fixed test key.
      store: { path: scope.file('buffer.db'), retention_days: 0, key_file: scope.file('buffer-key') },
      control: { socket: this.socket },
      fhir: { base_url: fhirUrl, retry_base_ms: 50, retry_cap_ms: 500, request_timeout_ms: 10000 },
      rules: { file: path.join(ROOT, 'config', 'rules', 'hf5.json') },
      log: { level: 'debug' },
    };
    this.log = scope.file('carehubd.log');
    scope.logs.push(this.log);
    scope.defer(() => this.stop());
  }

  // Starts carehubd and returns once it sent READY=1 (its own word that the control socket answers).
  async start() {
    if (!this.notify) {
      const sock = this.scope.file('notify.sock');
      this.notify = new Child('notify', ['/usr/bin/python3', path.join(import.meta.dirname, 'notify.py'), sock],
        { log: this.scope.file('notify.log') });
      this.scope.defer(() => this.notify.stop());
      await this.notify.waitLine((l) => l === 'BOUND');
      this.notifySocket = sock;
    }
    fs.writeFileSync(this.scope.file('buffer-key'), 'c0ffee00'.repeat(8) + '\n');
    fs.writeFileSync(this.scope.file('carehubd.json'), JSON.stringify(this.config, null, 2));
    const from = this.notify.lines.length;
    this.proc = new Child('carehubd', [path.join(BUILD, 'daemon', 'carehubd'), '--config', this.scope.file('carehubd.json')],
      { env: { ...this.env, NOTIFY_SOCKET: this.notifySocket }, log: this.log });
    await Promise.race([
      this.notify.waitLine((l) => l.includes('READY=1'), { from }),
      this.proc.exited.then((c) => { throw new Error(`carehubd exited (${c}) before READY=1`); }),
    ]);
  }

  async stop() {
    if (this.proc) await this.proc.stop(20000);
  }

  async ctl(args, input = '') {
    return run([CTL, '--socket', this.socket, ...args], { input });
  }

  async ctlJson(args) {
    const r = await this.ctl(args);
    if (r.code !== 0) throw new Error(`carehubctl ${args.join(' ')}: ${r.code} ${r.err}`);
    return jsonLines(r.out);
  }

  // `carehubctl measure add --json`: the results, in order; throws unless each was stored.
  async add(...readings) {
    const r = await this.ctl(['measure', 'add', '--json'], readings.map((x) => JSON.stringify(x) + '\n').join(''));
    const results = jsonLines(r.out);
    if (r.code !== 0 || results.some((x) => x.status !== 'stored')) {
      throw new Error(`measure add: ${r.code} ${r.err} ${r.out}`);
    }
    return results.map((x) => x.uid);
  }

  async status() {
    const r = await this.ctl(['status', '--json']);
    return JSON.parse(r.out);
  }

  async alerts(all = true) {
    return this.ctlJson(['alerts', '--json', ...(all ? ['--all'] : [])]);
  }
}

// tests/peers/fhir on `port` (0 = a free one, read from its LISTENING line).
export class FhirPeer {
  static async start(scope, { port = 0, args = [] } = {}) {
    const dir = path.join(ROOT, 'tests', 'peers', 'fhir');
    if (!fs.existsSync(path.join(dir, 'node_modules'))) throw new Error('tests/peers/fhir/node_modules is missing: run scripts/install-deps.sh');
    const peer = new FhirPeer();
    const log = scope.file('fhir.log');
    scope.logs.push(log);
    peer.proc = new Child('fhir peer', ['node', '--experimental-websocket', path.join(dir, 'server.mjs'), '--port', String(port), '--quiet', ...args], { log });
    scope.defer(() => peer.proc.stop());
    const { line } = await peer.proc.waitLine((l) => l.startsWith('LISTENING '), { ms: 60000 });
    peer.port = Number(line.slice(10));
    peer.origin = `http://127.0.0.1:${peer.port}`;
    peer.base = `${peer.origin}/fhir/R4`;
    return peer;
  }

  async get(pathAndQuery) {
    const r = await fetch(`${this.base}/${pathAndQuery}`, { headers: { Accept: 'application/fhir+json' } });
    if (!r.ok) throw new Error(`GET ${pathAndQuery}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  async put(p, resource) {
    const r = await fetch(`${this.base}/${p}`, { method: 'PUT', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    if (!r.ok) throw new Error(`PUT ${p}: ${r.status} ${await r.text()}`);
  }

  async control(method, p, body) {
    const r = await fetch(`${this.origin}/__control/${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} /__control/${p}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  reject(identifier, status = 422) { return this.control('POST', 'reject', { identifier, status }); }
  clearRejections() { return this.control('POST', 'reject', { clear: true }); }

  // The DetectedIssue of alert `id` (identifier urn:carehub:alert|<id>), or undefined.
  async detectedIssue(id) {
    const b = await this.get(`DetectedIssue?identifier=${encodeURIComponent(`urn:carehub:alert|${id}`)}`);
    return b.entry?.[0]?.resource;
  }
}

// The simulated patient kit: a private bus, bluez5 from python3-dbusmock, kit.py for devices.
export class BleKit {
  static async start(scope) {
    const kit = new BleKit();
    kit.bus = new Child('dbus-daemon', ['/usr/bin/dbus-daemon', '--session', '--nofork', '--print-address=1'], { log: scope.file('dbus.log') });
    scope.defer(() => kit.bus.stop());
    kit.address = (await kit.bus.waitLine((l) => l.length > 0, { ms: 10000 })).line;
    const log = scope.file('bluez-mock.log');
    scope.logs.push(log);
    kit.mock = new Child('bluez5 mock', ['/usr/bin/python3', '-m', 'dbusmock', '--template', 'bluez5', '--logfile', `${log}.calls`],
      { env: { DBUS_SYSTEM_BUS_ADDRESS: kit.address }, log });
    scope.defer(() => kit.mock.stop());
    await kit.run('wait-bluez', '20');
    return kit;
  }

  async run(...args) {
    const r = await run(['/usr/bin/python3', path.join(ROOT, 'tests', 'peers', 'ble', 'kit.py'), ...args],
      { env: { DBUS_SYSTEM_BUS_ADDRESS: this.address } });
    if (r.code !== 0) throw new Error(`kit.py ${args.join(' ')}: ${r.code} ${r.err} ${r.out}`);
    return r.out;
  }
}

// carehub-web against `daemon`'s control socket on a free loopback port (and, with `home`, on the home
// network address given, with a generated TLS certificate). Technician password: `password`.
// The TCP ports process `pid` listens on, as "address:port" strings (ss from iproute2): how a test learns
// the ports carehub-web bound when started with port 0, so no port is ever guessed.
async function listeningOn(pid) {
  const r = await run(['ss', '-Hltnp']);
  return r.out.split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[3]);
}

export class Web {
  // `listen` is the plain-HTTP listener (loopback by default; 0.0.0.0 makes it reachable from the home
  // network, where it must refuse everything but loopback peers).
  static async start(scope, daemon, { password = 'correct horse battery', listen = '127.0.0.1:0', home, language, args = [] } = {}) {
    const web = new Web();
    const hash = await run([WEB, '--hash-password'], { input: `${password}\n` });
    if (hash.code !== 0) throw new Error(`carehub-web --hash-password: ${hash.code} ${hash.err}`);
    fs.writeFileSync(scope.file('web-password'), hash.out.trim() + '\n', { mode: 0o600 });
    // The source tree's layout (the .deb puts catalogs and the chart library under the pages instead).
    const argv = [WEB, '--socket', daemon.socket, '--static', path.join(ROOT, 'web', 'static'),
      '--i18n', path.join(ROOT, 'web', 'i18n'), '--uplot', path.join(ROOT, 'web', 'node_modules', 'uplot', 'dist'),
      '--state-dir', scope.file('web-state'), '--listen', listen, '--password-hash-file', scope.file('web-password')];
    fs.mkdirSync(scope.file('web-state'), { recursive: true });
    if (home) fs.mkdirSync(scope.file('tls'), { mode: 0o700 });
    if (home) argv.push('--home-network', `${home}:0`, '--tls-generate', scope.file('tls'));
    if (language) argv.push('--language', language);
    argv.push(...args);
    const log = scope.file('carehub-web.log');
    scope.logs.push(log);
    web.proc = new Child('carehub-web', argv, { log });
    scope.defer(() => web.proc.stop());
    // Both listeners bound (port 0: the kernel's free ports), then ready when it answers.
    const want = home ? 2 : 1;
    const bound = await eventually(async () => {
      if (!web.proc.running) return [];
      const l = await listeningOn(web.proc.proc.pid);
      return l.length >= want && l;
    }, 'carehub-web listening', 15000, 20);
    if (!web.proc.running) throw new Error(`carehub-web exited (${web.proc.exitCode}); its log:\n${tail(log)}`);
    web.listen = bound.find((a) => !home || !a.startsWith(`${home}:`));
    web.port = Number(web.listen.split(':').pop());
    if (home) web.homeAddress = bound.find((a) => a.startsWith(`${home}:`));
    web.origin = `http://127.0.0.1:${web.port}`;
    // Ready when it answers (a condition, not a pause): the listeners are bound before the first answer.
    await eventually(async () => !web.proc.running || (await fetch(web.url('/api/i18n'))).ok, 'carehub-web answering', 15000, 20);
    if (!web.proc.running) throw new Error(`carehub-web exited (${web.proc.exitCode}); its log:\n${tail(log)}`);
    web.password = password;
    return web;
  }

  url(p) { return this.origin + p; }

  // A technician's API session from Node (no browser): login, then JSON calls with cookie and CSRF token.
  async tech() {
    const r = await fetch(this.url('/api/tech/login'), {
      method: 'POST', headers: { 'Content-Type': 'application/json', Origin: this.origin },
      body: JSON.stringify({ user: 'technician', password: this.password }),
    });
    if (r.status !== 200) throw new Error(`login: ${r.status} ${await r.text()}`);
    const { csrf } = await r.json();
    const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const call = async (method, p, body) => {
      const res = await fetch(this.url(`/api/tech/${p}`), {
        method, body: body && JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf, Origin: this.origin },
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    };
    return { cookie, csrf, call };
  }
}

let netnsCount = 0;

// A client on the home network: a network namespace joined to this one by a veth pair (10.77.N.0/30;
// the hub side .1, the client .2). Needs root (CAP_NET_ADMIN): available() says whether it can be made.
export class HomeNetwork {
  static available() {
    return process.getuid?.() === 0 && (fs.existsSync('/usr/sbin/ip') || fs.existsSync('/usr/bin/ip'));
  }

  static async create(scope) {
    const n = new HomeNetwork();
    // Unique per process and per call: ctest -j runs several test files at once.
    const tag = `${process.pid % 10000}${netnsCount++}`;
    const subnet = 1 + (process.pid * 7 + netnsCount) % 250;
    n.ns = `chb${tag}`;
    n.hostIf = `chh${tag}`;
    n.hubAddress = `10.77.${subnet}.1`;
    n.clientAddress = `10.77.${subnet}.2`;
    const ip = async (...args) => {
      const r = await run(['ip', ...args]);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.err}`);
    };
    await ip('netns', 'add', n.ns);
    scope.defer(() => run(['ip', 'netns', 'del', n.ns]));
    // IPv4 only inside: IPv6 would give eth0 a link-local address a moment after it comes up, and
    // chromium aborts a navigation under way on that change (net::ERR_NETWORK_CHANGED).
    const sysctl = await run(['ip', 'netns', 'exec', n.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    if (sysctl.code !== 0) throw new Error(`sysctl in ${n.ns}: ${sysctl.err}`);
    await ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
    scope.defer(() => run(['ip', 'link', 'del', n.hostIf]));
    await ip('addr', 'add', `${n.hubAddress}/30`, 'dev', n.hostIf);
    await ip('link', 'set', n.hostIf, 'up');
    await ip('-n', n.ns, 'addr', 'add', `${n.clientAddress}/30`, 'dev', 'eth0');
    await ip('-n', n.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', n.ns, 'link', 'set', 'lo', 'up');
    // Both ends carry traffic (a veth's operstate turns UP once its peer is up): chromium starts on a
    // network that no longer changes.
    await eventually(async () => / UP /.test((await run(['ip', '-n', n.ns, '-br', 'link', 'show', 'eth0'])).out) &&
      / UP /.test((await run(['ip', '-br', 'link', 'show', n.hostIf])).out), 'the veth pair up', 10000, 20);
    return n;
  }

  // A chromium that runs inside the client's namespace (Playwright talks to it over a pipe, which
  // `ip netns exec` passes on): a tablet on the home network.
  chromium(scope) {
    const wrapper = scope.file('chromium-in-netns');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${this.ns} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
    return wrapper;
  }

  // curl from the client's namespace: {code, status, headers, body}. `args` are more curl arguments.
  async curl(url, args = []) {
    const r = await run(['ip', 'netns', 'exec', this.ns, 'curl', '-sS', '-k', '--max-time', '10', '-D', '-', '-o', '-', ...args, url]);
    const split = r.out.indexOf('\r\n\r\n');
    const head = split >= 0 ? r.out.slice(0, split) : '';
    const status = Number(/^HTTP\/\S+ (\d+)/.exec(head)?.[1] ?? 0);
    return { code: r.code, err: r.err, status, headers: head, body: split >= 0 ? r.out.slice(split + 4) : r.out };
  }
}

export { eventually };
