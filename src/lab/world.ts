/**
 * The world file (lessons/world.yaml): domains, mailboxes, MX records and remote behaviours.
 * Validated on load; an error names the file and line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseDocument, LineCounter, type Document } from 'yaml';
import { cachedParse, parserVersion } from '../lessons/parse-cache.js';

export type RemoteBehaviour = 'accept' | 'greylist' | 'down' | 'reject';

export interface MxRecord {
  preference: number;
  host: string;
}

export interface DomainSpec {
  name: string;
  local: boolean;
  mailboxes: string[];
  mx: MxRecord[];
  behaviour: RemoteBehaviour;
}

export interface World {
  hostname: string;
  /** The lab server's own domain (the one `local: true` domain). */
  localDomain: string;
  domains: Map<string, DomainSpec>;
  trustedNetworks: string[];
  maxMessageSize: number;
  maxRecipients: number;
  retrySchedule: number[];
  /** SMTP AUTH accounts (RFC 4954): user name → password. Authenticated clients may relay. */
  authUsers: Map<string, string>;
}

export class WorldFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

export const LESSONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lessons');
export const DEFAULT_WORLD_FILE = path.join(LESSONS_DIR, 'world.yaml');

const BEHAVIOURS: RemoteBehaviour[] = ['accept', 'greylist', 'down', 'reject'];

export function loadWorld(file = DEFAULT_WORLD_FILE, overrides?: unknown): World {
  // The YAML is parsed once per version of the file (the cache holds plain data); the document with
  // its line positions is only needed again to name the line of an error.
  const parsed = cachedParse(file, PARSER_VERSION, (text) => {
    try {
      return { ok: true, value: parseYaml(text, file).doc.toJS() ?? {} };
    } catch (err) {
      const e = err as WorldFileError;
      return { ok: false, error: { line: e.line ?? 1, message: e.message } };
    }
  });
  if (!parsed.ok) throw new WorldFileError(file, parsed.error.line, parsed.error.message.replace(/^.*?:\d+: /, ''));
  return validateWorld(parsed.value, file, overrides, () => parseYaml(readFileSync(file, 'utf8'), file));
}

export function parseWorld(text: string, file: string, overrides?: unknown): World {
  const yaml = parseYaml(text, file);
  return validateWorld(yaml.doc.toJS() ?? {}, file, overrides, () => yaml);
}

function parseYaml(text: string, file: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new WorldFileError(file, lc.linePos(e.pos[0]).line, e.message.split('\n')[0]!);
  }
  return { doc, lc };
}

const PARSER_VERSION = parserVersion(parseYaml);

function validateWorld(parsed: unknown, file: string, overrides: unknown, yaml: () => { doc: Document; lc: LineCounter }): World {
  const lineOf = (p: (string | number)[]): number => {
    const { doc, lc } = yaml();
    return nodeLine(doc, lc, p);
  };
  const fail = (p: (string | number)[], detail: string): never => {
    throw new WorldFileError(file, lineOf(p), detail);
  };
  const raw = mergeDeep(parsed, overrides ?? {}) as any;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail([], 'the world file must be a mapping');
  const hostname = raw.hostname ?? 'mx.example.com';
  if (typeof hostname !== 'string' || !/^[a-z0-9.-]+$/i.test(hostname)) fail(['hostname'], 'hostname must be a host name');
  const domains = new Map<string, DomainSpec>();
  if (!raw.domains || typeof raw.domains !== 'object') fail(['domains'], '"domains" is missing: name at least the local domain');
  let localDomain: string | undefined;
  for (const [name, spec] of Object.entries<any>(raw.domains)) {
    const at = ['domains', name];
    if (!spec || typeof spec !== 'object') fail(at, `domain ${name} must be a mapping`);
    const mailboxes = spec.mailboxes ?? [];
    if (!Array.isArray(mailboxes) || mailboxes.some((m: unknown) => typeof m !== 'string'))
      fail([...at, 'mailboxes'], `mailboxes of ${name} must be a list of local parts`);
    const mx: MxRecord[] = [];
    for (const [i, r] of (spec.mx ?? []).entries()) {
      if (!r || typeof r.host !== 'string' || !Number.isInteger(r.preference))
        fail([...at, 'mx', i], `an MX record of ${name} needs a whole-number preference and a host`);
      mx.push({ preference: r.preference, host: r.host.toLowerCase() });
    }
    const behaviour = spec.behaviour ?? 'accept';
    if (!BEHAVIOURS.includes(behaviour)) fail([...at, 'behaviour'], `behaviour of ${name} must be one of ${BEHAVIOURS.join(', ')}`);
    const local = spec.local === true;
    if (local) {
      if (localDomain) fail(at, `only one domain may be local (${localDomain} already is)`);
      localDomain = name.toLowerCase();
    }
    domains.set(name.toLowerCase(), { name: name.toLowerCase(), local, mailboxes, mx, behaviour });
  }
  if (!localDomain) fail(['domains'], 'one domain must have "local: true" (the lab server\'s own)');
  const trusted = raw.relay?.trusted_networks ?? ['127.0.0.0/8', '::1/128'];
  const schedule = raw.retry?.schedule_seconds ?? [2, 4, 8, 16];
  if (!Array.isArray(schedule) || schedule.some((s: unknown) => typeof s !== 'number' || s < 0))
    fail(['retry', 'schedule_seconds'], 'retry.schedule_seconds must be a list of seconds');
  return {
    hostname: hostname.toLowerCase(),
    localDomain: localDomain!,
    domains,
    trustedNetworks: trusted,
    maxMessageSize: Number(raw.limits?.max_message_size ?? 10 * 1024 * 1024),
    maxRecipients: Number(raw.limits?.max_recipients ?? 100),
    retrySchedule: schedule,
    authUsers: new Map(Object.entries<string>(raw.auth?.users ?? {}).map(([u, p]) => [u, String(p)])),
  };
}

function nodeLine(doc: Document, lc: LineCounter, p: (string | number)[]): number {
  for (let n = p.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return 1;
}

function mergeDeep(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = mergeDeep(out[k], v);
  return out;
}

export function isLocalMailbox(world: World, address: string): boolean {
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1).toLowerCase();
  const spec = world.domains.get(domain);
  return !!spec?.local && spec.mailboxes.includes(address.slice(0, at));
}
