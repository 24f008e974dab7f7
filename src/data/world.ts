/**
 * The world file (lessons/world.yaml): domains, mailboxes, MX records and remote behaviours. Every value
 * is checked for type and range before the lab starts: a wrong one is one line, `file:line: …`.
 */
import net from 'node:net';
import path from 'node:path';
import type * as Z from 'zod';
import { DEFAULT_RETRY_SCHEDULE } from '../lab/retry-policy.js';
import { faultWords, parseFault, FaultSyntaxError } from '../lab/fault-grammar.js';
import { LESSONS_DIR, readCompiled } from './shipped.js';
import { zod } from './lazy-modules.js';
import { didYouMean } from './close-matches.js';
import { DataFileError, parseYaml, readDataFile, rethrownAs, validate, type Path } from './yaml-lines.js';

export { LESSONS_DIR };
export const DEFAULT_WORLD_FILE = path.join(LESSONS_DIR, 'world.yaml');

/** A world file problem: `file:line: what is wrong`. */
export class WorldFileError extends DataFileError {}

/**
 * The world file's schema: built on first use (zod is loaded then, see lazy-modules.ts). A start with
 * the compiled world.json and no lesson `world:` never builds it.
 */
function buildWorldSchema(z: typeof Z) {
  // lax-data-end: like the receivers in the 2023 SMTP smuggling reports, its MX also ends DATA on a bare
  // <LF>.<LF> (or <LF>.<CR><LF>), which RFC 5321 §4.1.1.4 forbids.
  const behaviourSchema = z.enum(['accept', 'greylist', 'down', 'reject', 'lax-data-end'], {
    error: 'behaviour of {domain} must be one of accept, greylist, down, reject, lax-data-end',
  });

  const mxNeeds = 'an MX record of {domain} needs a preference (a whole number 0-65535, RFC 1035 §3.3.9) and a host';
  const mxSchema = z.strictObject(
    {
      // RFC 1035 §3.3.9: PREFERENCE is a 16-bit integer.
      preference: z.int({ error: mxNeeds }).min(0, { error: mxNeeds }).max(65535, { error: mxNeeds }),
      host: z
        .string({ error: mxNeeds })
        .min(1, { error: mxNeeds })
        .transform((h) => h.toLowerCase()),
    },
    { error: mxNeeds },
  );

  const domainShape = {
    local: z.boolean({ error: '"local" of {domain} must be true or false' }).default(false),
    mailboxes: z.array(z.string({ error: 'mailboxes of {domain} must be a list of local parts' }), { error: 'mailboxes of {domain} must be a list of local parts' }).default([]),
    mx: z.array(mxSchema, { error: 'the MX records of {domain} must be a list of { preference, host }' }).default([]),
    behaviour: behaviourSchema.default('accept'),
    /**
     * A hop in front of this domain's MX that rewrites the Subject: (as a mailing list or a content filter
     * does) before the MX verifies the message: a DKIM signature over Subject: then fails (RFC 6376 §3.5 h=).
     */
    rewrite_subject: z.string({ error: 'rewrite_subject of {domain} must be text (a prefix put before the Subject:)' }).min(1, { error: 'rewrite_subject of {domain} must be text (a prefix put before the Subject:)' }).optional(),
  };

  const domainSchema = z.strictObject(domainShape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `domain {domain} has an unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(domainShape))} (expected ${Object.keys(domainShape).join(', ')})`
        : 'domain {domain} must be a mapping',
  });

  /** "127.0.0.0/8", "::1/128" or one address; net.BlockList is the judge of what is valid. */
  function isNetwork(text: string): boolean {
    const [address = '', prefix, extra] = text.split('/');
    const family = net.isIP(address);
    if (!family || extra !== undefined || (prefix !== undefined && !/^\d+$/.test(prefix))) return false;
    try {
      new net.BlockList().addSubnet(address, prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
      return true;
    } catch {
      return false;
    }
  }

  const notNetwork = (iss: { input?: unknown }): string => `"${String(iss.input)}" in relay.trusted_networks is not an IP network (e.g. 127.0.0.0/8 or ::1/128)`;

  const notAddress = (what: string) => (iss: { input?: unknown }): string => `"${String(iss.input)}" in ${what} is not an IP address`;
  const ipv4 = (what: string) => z.string({ error: notAddress(what) }).refine((a) => net.isIPv4(a), { error: notAddress(what) });
  const ipv6 = (what: string) => z.string({ error: notAddress(what) }).refine((a) => net.isIPv6(a), { error: notAddress(what) });
  /** Only loopback: the lab sends nothing off this machine, and a client can bind any 127/8 address on Linux. */
  const loopback = (what: string) => {
    const error = (iss: { input?: unknown }) => `${what} must be a loopback address (127.x.x.x), not "${String(iss.input)}": the lab's traffic stays on this machine`;
    return z.string({ error }).refine((a) => net.isIPv4(a) && a.startsWith('127.'), { error });
  };
  const hostName = (what: string) => z.string({ error: `${what} must be a host name` }).regex(/^[a-z0-9_.-]+$/i, { error: `${what} must be a host name` }).transform((h) => h.toLowerCase());

  /** One name's records in the lab's own DNS (never real DNS). */
  const dnsRecordsSchema = z.strictObject(
    {
      A: z.array(ipv4('dns A records'), { error: 'dns A records must be a list of IPv4 addresses' }).default([]),
      AAAA: z.array(ipv6('dns AAAA records'), { error: 'dns AAAA records must be a list of IPv6 addresses' }).default([]),
      TXT: z.array(z.string({ error: 'a TXT record must be text' }), { error: 'dns TXT records must be a list of text' }).default([]),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `dns record type "${iss.keys[0]}" is not served here (expected A, AAAA, TXT; MX comes from domains)` : 'a dns entry must map A, AAAA or TXT to a list') },
  );

  const positiveInt = (what: string) => z.int({ error: `${what} must be a whole number above 0` }).min(1, { error: `${what} must be a whole number above 0` });

  const sections = <S extends Z.ZodRawShape>(name: string, shape: S) =>
    z.strictObject(shape, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `${name} has an unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(shape))} (expected ${Object.keys(shape).join(', ')})`
          : `${name} must be a mapping`,
    });

  const seconds = 'retry.schedule_seconds must be a list of seconds (numbers, 0 or more)';

  const basePort = 'remote_base_port must be a whole number from 1024 to 65535 (the remote MTAs listen there and on the ports after it)';

  // Written in the words of `smtp-lab fault` (src/lab/fault-grammar.ts), so a lesson's faults read as an
  // instructor would type them.
  const notFault = 'each entry of faults must be a fault as `smtp-lab fault` takes it, e.g. "rcpt 451 4.3.0 --every"';
  const faultLine = z.string({ error: notFault }).superRefine((line, ctx) => {
    try {
      if (parseFault(faultWords(line)).op !== 'add') ctx.addIssue({ code: 'custom', message: `fault "${line}": list and clear are for a running lab, not a world file` });
    } catch (err) {
      if (!(err instanceof FaultSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: `fault "${line}": ${err.message}` });
    }
  });

  const worldShape = {
    /** The lab server's name: in the 220 banner, Received: fields, EHLO when relaying. */
    hostname: z
      .string({ error: 'hostname must be a host name' })
      .regex(/^[a-z0-9.-]+$/i, { error: 'hostname must be a host name' })
      .transform((h) => h.toLowerCase())
      .default('mx.example.com'),
    domains: z.record(z.string(), domainSchema, {
      error: (iss) => (iss.input === undefined ? '"domains" is missing: name at least the local domain' : '"domains" must be a mapping of domain names'),
    }),
    relay: sections('relay', {
      trusted_networks: z
        .array(
          z.string({ error: notNetwork }).refine(isNetwork, { error: notNetwork }),
          { error: 'relay.trusted_networks must be a list of IP networks (e.g. 127.0.0.0/8)' },
        )
        .default(['127.0.0.0/8', '::1/128']),
      /** The address the lab relays from: what a receiver's SPF check sees (RFC 7208 §2.4). */
      source_address: loopback('relay.source_address').default('127.0.0.1'),
      // What the lab does with a bare LF inside DATA (src/lab/smuggling.ts): reject (550 5.5.2, Postfix's
      // smtpd_forbid_bare_newline = reject) or pass (relay the bytes as received: a lax relay).
      bare_lf: z.enum(['reject', 'pass'], { error: 'relay.bare_lf must be reject or pass' }).default('reject'),
    }).default({ trusted_networks: ['127.0.0.0/8', '::1/128'], source_address: '127.0.0.1', bare_lf: 'reject' }),
    limits: sections('limits', {
      /** Octets; announced in EHLO as SIZE (RFC 1870). */
      max_message_size: positiveInt('limits.max_message_size').default(10 * 1024 * 1024),
      // Not any positive number: a server MUST accept at least 100 recipients per message.
      max_recipients: z
        .int({ error: 'limits.max_recipients must be a whole number of at least 100 (RFC 5321 §4.5.3.1.8: a server must accept 100 recipients)' })
        .min(100, { error: 'limits.max_recipients must be a whole number of at least 100 (RFC 5321 §4.5.3.1.8: a server must accept 100 recipients)' })
        .default(100),
    }).default({ max_message_size: 10 * 1024 * 1024, max_recipients: 100 }),
    retry: sections('retry', {
      schedule_seconds: z
        .array(z.number({ error: seconds }).nonnegative({ error: seconds }), { error: seconds })
        .default([...DEFAULT_RETRY_SCHEDULE]),
    }).default({ schedule_seconds: [...DEFAULT_RETRY_SCHEDULE] }),
    /** SMTP AUTH accounts (RFC 4954): user name → password. */
    auth: sections('auth', {
      users: z.record(z.string(), z.union([z.string(), z.number()], { error: 'a password in auth.users must be text' }).transform(String), {
        error: 'auth.users must be a mapping of user name to password',
      }),
    }).default({ users: {} }),
    /** The lab's own DNS: A, AAAA and TXT per name (MX records come from `domains`). */
    dns: z.record(z.string(), dnsRecordsSchema, { error: '"dns" must be a mapping of names to their records' }).default({}),
    /** DKIM (RFC 6376): the selector of the lab's key; the key itself is made once per data dir. */
    dkim: sections('dkim', {
      selector: hostName('dkim.selector').default('lab'),
    }).default({ selector: 'lab' }),
    /** A sender on the Internet who forges mail from the lab's domain (`smtp-lab spoof`, `:spoof`). */
    forger: sections('forger', {
      address: loopback('forger.address').default('127.0.0.66'),
      helo: hostName('forger.helo').default('mail.forger.example'),
    }).default({ address: '127.0.0.66', helo: 'mail.forger.example' }),
    /** The remote MTAs' first port (then +1, … in world order); absent: ports the OS picks. */
    remote_base_port: z.int({ error: basePort }).min(1024, { error: basePort }).max(65535, { error: basePort }).optional(),
    /** Faults the lab starts with (a lesson about failures), set "by the world file". */
    faults: z.array(faultLine, { error: notFault }).default([]),
  };

  const worldSchema = z
    .strictObject(worldShape, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(worldShape))} (expected one of ${Object.keys(worldShape).join(', ')})`
          : 'the world file must be a mapping',
    })
    .superRefine((w, ctx) => {
      const local = Object.keys(w.domains).filter((name) => w.domains[name]!.local);
      if (local.length === 0) ctx.addIssue({ code: 'custom', path: ['domains'], message: 'one domain must have "local: true" (the lab server\'s own)' });
      if (local.length > 1) ctx.addIssue({ code: 'custom', path: ['domains', local[1]!, 'local'], message: `only one domain may be local (${local[0]} already is)` });
      w.faults.forEach((line, i) => {
        let fault;
        try {
          const request = parseFault(faultWords(line));
          fault = request.op === 'add' ? request.fault : undefined;
        } catch {
          return; // said by the entry's own check
        }
        if (fault?.kind !== 'remote') return;
        const d = Object.keys(w.domains).find((name) => name.toLowerCase() === fault.domain);
        if (!d || w.domains[d]!.local) ctx.addIssue({ code: 'custom', path: ['faults', i], message: `fault "${line}": ${fault.domain} is not a remote domain of this world` });
      });
    });
  return worldSchema;
}

/** The world file as checked, with every default filled in: plain data (dist/world.json keeps it). */
export type WorldInput = Z.output<ReturnType<typeof buildWorldSchema>>;

let worldSchemaBuilt: ReturnType<typeof buildWorldSchema> | undefined;
const worldSchema = () => (worldSchemaBuilt ??= buildWorldSchema(zod()));

/** The checked world as the lab uses it: names lower-cased, Maps for lookups. */
function toWorld(w: WorldInput) {
  const domains = new Map(
    Object.entries(w.domains).map(([name, d]) => [name.toLowerCase(), { name: name.toLowerCase(), local: d.local, mailboxes: d.mailboxes, mx: d.mx, behaviour: d.behaviour, rewriteSubject: d.rewrite_subject }]),
  );
  return {
    hostname: w.hostname,
    /** The lab server's own domain (the one `local: true` domain). */
    localDomain: [...domains.values()].find((d) => d.local)!.name,
    domains,
    trustedNetworks: w.relay.trusted_networks,
    /** The address the lab relays from (RFC 7208 §2.4: what SPF checks). */
    relaySource: w.relay.source_address,
    /** The lab's DNS records by lower-case name, without a trailing dot. */
    dns: new Map(Object.entries(w.dns).map(([n, r]) => [n.toLowerCase().replace(/\.$/, ''), r])),
    dkimSelector: w.dkim.selector,
    forger: w.forger,
    /** A bare LF inside DATA: refused (the default) or relayed as received. */
    bareLf: w.relay.bare_lf,
    maxMessageSize: w.limits.max_message_size,
    maxRecipients: w.limits.max_recipients,
    retrySchedule: w.retry.schedule_seconds,
    /** SMTP AUTH accounts (RFC 4954): user name → password. Authenticated clients may relay. */
    authUsers: new Map(Object.entries(w.auth.users)),
    remoteBasePort: w.remote_base_port,
    faults: w.faults,
  };
}

export type World = ReturnType<typeof toWorld>;
export type DomainSpec = World['domains'] extends Map<string, infer D> ? D : never;
export type MxRecord = DomainSpec['mx'][number];
export type RemoteBehaviour = DomainSpec['behaviour'];

/** The world file, with a lesson's `world:` merged over it. */
export function loadWorld(file = DEFAULT_WORLD_FILE, overrides?: unknown): World {
  const compiled = file === DEFAULT_WORLD_FILE ? readCompiled<CompiledWorld>('world', [file]) : undefined;
  if (!compiled) return rethrownAs(WorldFileError, () => parseWorld(readDataFile(file), file, overrides));
  return worldFromCompiled(compiled, file, overrides);
}

/** The world from dist/world.json (`file` is its source, named in errors), a lesson's `world:` merged over it. */
export function worldFromCompiled(compiled: CompiledWorld, file = DEFAULT_WORLD_FILE, overrides?: unknown): World {
  // Checked at build time, and nothing merged over it: no schema, no zod (start-up time and memory).
  if (overrides === undefined && compiled.checked) return toWorld(compiled.checked);
  // The compiled data has no line numbers: the YAML is read again only to name the line of an error.
  return validateWorld(compiled.world, file, overrides, (p) => parseYaml(readDataFile(file), file).lineOf(p));
}

export function parseWorld(text: string, file: string, overrides?: unknown): World {
  const yaml = rethrownAs(WorldFileError, () => parseYaml(text, file));
  return validateWorld(yaml.value, file, overrides, yaml.lineOf);
}

/**
 * dist/world.json: the file as written (a lesson's `world:` is merged over that, then checked) and as
 * checked, every default filled in (what a start without a lesson's `world:` uses as it is).
 */
export interface CompiledWorld {
  world: unknown;
  checked?: WorldInput;
}

/** The world file as the build compiles it to dist/world.json: plain data, checked first. */
export function compileWorld(file = DEFAULT_WORLD_FILE): CompiledWorld {
  const yaml = rethrownAs(WorldFileError, () => parseYaml(readDataFile(file), file));
  const checked = checkWorld(yaml.value, file, undefined, yaml.lineOf);
  return { world: yaml.value ?? {}, checked };
}

function checkWorld(parsed: unknown, file: string, overrides: unknown, lineOf: (p: Path) => number): WorldInput {
  const raw = mergeDeep(parsed ?? {}, overrides ?? {});
  return rethrownAs(WorldFileError, () => validate(worldSchema(), raw, file, lineOf, (message, p) => message.replaceAll('{domain}', String(p[1]))));
}

function validateWorld(parsed: unknown, file: string, overrides: unknown, lineOf: (p: Path) => number): World {
  return toWorld(checkWorld(parsed, file, overrides, lineOf));
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
