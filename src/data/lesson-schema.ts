/**
 * What a lesson's front matter may say: the one definition (lessons/README.md explains it to authors;
 * src/lessons/types.ts infers its types from here). Objects are strict because an unknown key is
 * usually a typo. A message may say "{step}": the loader fills in "step N" from where the problem is.
 */
import type * as Z from 'zod';
import { zod } from './lazy-modules.js';
import type { MxLookupEvent, SessionCloseEvent } from '../events/types.js';
import { FIELD_NAME } from '../protocol/message.js';
import { STAGES } from '../protocol/stages.js';
import { didYouMean } from './close-matches.js';

/** As the events say them (src/events/types.ts): MxLookupEvent.error, SessionCloseEvent.reason. */
export const MX_ERRORS = ['NXDOMAIN', 'NULL_MX', 'TEMPFAIL'] as const satisfies readonly NonNullable<MxLookupEvent['error']>[];
/** Results as Authentication-Results: writes them (RFC 8601 §2.7; RFC 7208 §2.6 for SPF's). */
export const AUTH_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'] as const;
export const CLOSE_REASONS = ['quit', 'timeout', 'reset', 'shutdown', 'closed', 'dropped'] as const satisfies readonly SessionCloseEvent['reason'][];

/**
 * What a step may need before it can pass: of the learner's session (src/protocol/session.ts: an
 * accepted HELO/EHLO, an open transaction, an accepted recipient, an open message), or a message of
 * theirs accepted earlier in the lesson (a step that watches its delivery).
 */
export const SESSION_NEEDS = ['hello', 'transaction', 'recipient', 'data', 'tls', 'auth'] as const;
export const STEP_NEEDS = [...SESSION_NEEDS, 'message'] as const;

/**
 * The predicates' fields and the helpers the schemas share. The schemas are built on first use (zod is
 * loaded then, see lazy-modules.ts): a start with the build's dist/lessons.json never builds them.
 */
function buildPredicateFields(z: typeof Z) {
  const missing = (iss: { input?: unknown }): boolean => iss.input === undefined;
  const keyList = (shape: object): string => Object.keys(shape).join(', ');

  const replyCode = (error: string) => z.int({ error }).min(200, { error }).max(599, { error });

  const text = (what: string) => z.string({ error: `{step}: ${what} must be text` });

  /** A regular expression, as the predicates will compile it (case-insensitive unless it is about exact text). */
  const regex = (what: string) =>
    text(what).superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `{step}: ${what} is not a valid regular expression (${(err as Error).message})` });
      }
    });

  const oneOf = <const T extends readonly [string, ...string[]]>(values: T, what: string) =>
    z.enum(values, { error: `{step}: ${what} must be one of ${values.join(', ')}` });

  /** A strict mapping; an unknown field names the predicate it is in. */
  function fields<S extends Z.ZodRawShape>(name: string, shape: S) {
    return z.strictObject(shape, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `{step}: "${name}" has an unknown field "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(shape))} (expected ${keyList(shape)})`
          : `{step}: "${name}" must be a mapping`,
    });
  }

  const stageSchema = z.enum(STAGES, { error: (iss) => `"${String(iss.input)}" is not a stage (one of ${STAGES.join(', ')})` });

  const verbError = '{step}: command needs a "verb" (e.g. MAIL)';
  const verb = z
    .string({ error: verbError })
    .regex(/^[A-Za-z.]+$/, { error: verbError })
    .transform((v) => v.toUpperCase());

  const upper = (what: string) => text(what).transform((v) => v.toUpperCase());

  const toError = '{step}: reply.to must be a verb or "."';
  const codesError = '{step}: reply.codes must be a list of reply codes (200-599)';

  const reply = fields('reply', {
    /** The verb the reply answers, or "." for the end of the message. */
    to: z
      .string({ error: toError })
      .regex(/^([A-Za-z]+|\.)$/, { error: toError })
      .transform((v) => v.toUpperCase())
      .optional(),
    code: replyCode('{step}: reply.code must be a reply code (200-599)').optional(),
    codes: z.array(replyCode(codesError), { error: codesError }).min(1, { error: codesError }).optional(),
    class: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(5)], { error: '{step}: reply.class must be 2, 3, 4 or 5' }).optional(),
    /** An RFC 3463 enhanced code, exact. */
    enhanced: z
      .string({ error: '{step}: reply.enhanced must be an RFC 3463 code such as 5.1.1' })
      .regex(/^[245]\.\d{1,3}\.\d{1,3}$/, { error: '{step}: reply.enhanced must be an RFC 3463 code such as 5.1.1' })
      .optional(),
    /**
     * A regex on the arguments of the very command this reply answers: `{ to: MAIL, code: 250, args:
     * "^FROM:<alice@" }` holds only when *that* MAIL got the 250, not when one MAIL matched and another
     * was accepted.
     */
    args: regex('reply.args').optional(),
    /**
     * A case-sensitive regex on the whole line, exactly as typed, of the command this reply answers:
     * `{ to: NOOP, code: 250, command: "^noop$" }` holds only for a lower-case noop that got its 250.
     */
    command: regex('reply.command').optional(),
  }).superRefine((r, ctx) => {
    for (const key of ['args', 'command'] as const)
      if (r[key] !== undefined && (r.to === undefined || r.to === '.'))
        ctx.addIssue({ code: 'custom', path: [key], message: `{step}: reply.${key} needs reply.to, a verb (the command whose line it tests)` });
  });

  const wire = fields('wire', {
    leg: oneOf(['inbound', 'relay'], 'wire.leg').optional(),
    direction: oneOf(['client', 'server'], 'wire.direction').optional(),
    verb: upper('wire.verb').optional(),
    code: replyCode('{step}: wire.code must be a reply code (200-599)').optional(),
    replyTo: upper('wire.replyTo').optional(),
    data: z.boolean({ error: '{step}: wire.data must be true or false' }).optional(),
    /** The client sent this command before the reply to the previous one (RFC 2920); false: in lock-step. */
    pipelined: z.boolean({ error: '{step}: wire.pipelined must be true or false' }).optional(),
    /** A case-insensitive regex on the line. */
    match: regex('wire.match').optional(),
    /**
     * A header field of the message, by name: it holds when the header has this field once (RFC 5322
     * §3.6), and `match` is tested on its line unfolded (RFC 5322 §2.2.3).
     */
    field: text('wire.field').regex(FIELD_NAME, '{step}: wire.field must be a header field name, such as To').optional(),
    /** The message's one Date: field, unfolded, has an RFC 5322 §3.3 date-time as its value (src/protocol/date.ts). */
    dateTime: z.boolean({ error: '{step}: wire.dateTime must be true or false' }).optional(),
    /** With `field`: its value is a list of addresses as RFC 5322 §3.4 writes them (`Alice <alice@example.com>`, `alice@example.com`). */
    address: z.boolean({ error: '{step}: wire.address must be true or false' }).optional(),
  }).superRefine((w, ctx) => {
    if (w.address !== undefined && w.field === undefined)
      ctx.addIssue({ code: 'custom', path: ['address'], message: '{step}: wire.address tests the value of a header field: give it with wire.field, such as field: From' });
    // `field` and `dateTime` read a message's header, which only a client sends in its data: a part
    // about another line would be ignored, and a step would pass without it.
    const reads = w.field !== undefined ? 'wire.field' : w.dateTime !== undefined ? 'wire.dateTime' : undefined;
    if (reads === undefined) return;
    const ignored: [keyof typeof w, boolean][] = [
      ['dateTime', reads === 'wire.field' && w.dateTime !== undefined],
      ['direction', w.direction === 'server'],
      ['verb', w.verb !== undefined],
      ['code', w.code !== undefined],
      ['replyTo', w.replyTo !== undefined],
      ['pipelined', w.pipelined !== undefined],
      ['data', w.data === false],
    ];
    for (const [key, bad] of ignored)
      if (bad)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `{step}: ${reads} reads the header of a message a client sends (data: true, direction: client), so wire.${key}${key === 'direction' || key === 'data' ? `: ${String(w[key])}` : ''} cannot go with it${key === 'dateTime' ? ' (dateTime is the Date: field\'s own test: give it alone)' : ''}`,
        });
  });

  const predicateFields = {
    command: fields('command', {
      verb,
      args: regex('command.args').optional(),
      /** A case-sensitive regex on the whole line as typed (its case, its spaces). */
      text: regex('command.text').optional(),
    }).optional(),
    reply: reply.optional(),
    stage: z.enum(STAGES, { error: (iss) => `{step}: "${String(iss.input)}" is not a stage (one of ${STAGES.join(', ')})` }).optional(),
    wire: wire.optional(),
    queued: fields('queued', { to: text('queued.to').optional(), from: text('queued.from').optional() }).optional(),
    mx: fields('mx', { domain: text('mx.domain').optional(), error: oneOf(MX_ERRORS, 'mx.error').optional() }).optional(),
    delivered: fields('delivered', { to: text('delivered.to').optional(), via: oneOf(['local', 'relay'], 'delivered.via').optional() }).optional(),
    deferred: fields('deferred', { to: text('deferred.to').optional() }).optional(),
    bounced: fields('bounced', { to: text('bounced.to').optional(), notify: text('bounced.notify').optional() }).optional(),
    relayDenied: fields('relayDenied', { to: text('relayDenied.to').optional() }).optional(),
    /** A remote MTA stored a message (its own account of the next hop): `{ to: carol@lax.example, from: … }`. */
    remoteAccepted: fields('remoteAccepted', {
      to: text('remoteAccepted.to').optional(),
      from: text('remoteAccepted.from').optional(),
      /** A message the relay never sent: its sender is no MAIL FROM the lab's relay leg sent as a command (lesson 21). */
      smuggled: z.boolean({ error: '{step}: remoteAccepted.smuggled must be true or false' }).optional(),
    }).optional(),
    closed: fields('closed', { reason: oneOf(CLOSE_REASONS, 'closed.reason').optional() }).optional(),
    /** The learner's session finished a TLS handshake (`implicit`: on the implicit-TLS port, not after STARTTLS). */
    tls: fields('tls', { implicit: z.boolean({ error: '{step}: tls.implicit must be true or false' }).optional() }).optional(),
    /**
     * A lookup in the lab's DNS happened (by a remote MTA's checks, or the learner's :dns). `by: you`:
     * the learner's own :dns, as a step that says "type `:dns …`" needs (a remote MTA looks the same
     * names up checking their mail); or the MTA that asked, such as mx.example.net.
     */
    dns: fields('dns', {
      name: text('dns.name').optional(),
      type: oneOf(['A', 'AAAA', 'MX', 'TXT'], 'dns.type').optional(),
      by: text('dns.by').transform((v) => v.toLowerCase()).optional(),
    }).optional(),
    /** The lab DKIM-signed the learner's message (RFC 6376). */
    dkimSigned: fields('dkimSigned', { domain: text('dkimSigned.domain').optional() }).optional(),
    /** A receiving MTA checked a message: each given result must match; `refused`: it said 550 to it. */
    authResults: fields('authResults', {
      spf: oneOf(AUTH_RESULTS, 'authResults.spf').optional(),
      dkim: oneOf(AUTH_RESULTS, 'authResults.dkim').optional(),
      dmarc: oneOf(AUTH_RESULTS, 'authResults.dmarc').optional(),
      /** The From: domain DMARC checked. */
      domain: text('authResults.domain').optional(),
      forged: z.boolean({ error: '{step}: authResults.forged must be true or false' }).optional(),
      refused: z.boolean({ error: '{step}: authResults.refused must be true or false' }).optional(),
    }).optional(),
    /** A tutor command the learner ran (its echo on the bus): `{ command: ":mailbox", args: "postmaster@" }`. */
    tutor: fields('tutor', {
      command: text('tutor.command').regex(/^:[a-z]+$/, { error: '{step}: tutor.command must be a tutor command such as :mailbox' }),
      args: regex('tutor.args').optional(),
      /** What the tutor answered to it (its report: a message as stored, a listing) matches this. */
      shows: regex('tutor.shows').optional(),
    }).optional(),
    /** Whose sessions count: the learner's (default) or any client's (swaks, curl, …). */
    session: oneOf(['learner', 'any'], 'session').optional(),
    /** Only sessions on this listener count (a step "on the MX" is not done on the submission port). */
    listener: oneOf(['mx', 'submission', 'smtps'], 'listener').optional(),
    /** With `sequence`: every part on one and the same session (a reconnect between them does not count). */
    sameSession: z.boolean({ error: '{step}: sameSession must be true or false' }).optional(),
  };

  return { predicateFields, missing, keyList, text, regex, oneOf, stageSchema };
}

/** A step's `expect`: every key must hold. `any` and `all` nest predicates, so the type is spelled out there. */
export type Predicate = Z.output<Z.ZodObject<ReturnType<typeof buildPredicateFields>['predicateFields']>> & { any?: Predicate[]; all?: Predicate[]; sequence?: Predicate[] };

function buildLessonSchemas(z: typeof Z) {
  const { predicateFields, missing, keyList, text, regex, oneOf, stageSchema } = buildPredicateFields(z);
  const PREDICATE_KEYS = [...Object.keys(predicateFields), 'any', 'all', 'sequence'].join(', ');

  const predicateSchema: Z.ZodType<Predicate> = z
    .strictObject(
      {
        ...predicateFields,
        any: z.lazy(() => predicateList('any')),
        all: z.lazy(() => predicateList('all')),
        /** Each holds on what came after the one before it held: an order, not just a set. */
        sequence: z.lazy(() => predicateList('sequence')),
      },
      {
        error: (iss) =>
          iss.code === 'unrecognized_keys'
            ? `{step}: unknown predicate "${iss.keys[0]}"${didYouMean(iss.keys[0]!, PREDICATE_KEYS.split(', '))} (expected one of ${PREDICATE_KEYS})`
            : missing(iss)
              ? '{step} has no "expect"'
              : `{step}: "expect" must be a mapping of predicates (${PREDICATE_KEYS})`,
      },
    )
    // A predicate with nothing to test would pass at once: no check may be vacuous.
    .refine((p) => Object.keys(p).some((k) => k !== 'session' && k !== 'sameSession' && k !== 'listener'), { error: '{step}: the predicate tests nothing' })
    .refine((p) => p.sameSession === undefined || p.sequence !== undefined, { error: '{step}: sameSession goes with sequence' });

  function predicateList(name: string) {
    const error = `{step}: "${name}" must be a non-empty list of predicates`;
    return z.array(predicateSchema, { error }).min(1, { error }).optional();
  }

  const stepShape = {
    instruction: z.string({ error: '{step} has no "instruction"' }).trim().min(1, { error: '{step} has no "instruction"' }),
    expect: predicateSchema,
    hints: z
      .array(z.string({ error: '{step}: "hints" must be a non-empty list of text' }).trim().min(1, { error: '{step}: "hints" must be a non-empty list of text' }), { error: (iss) => (missing(iss) ? '{step} has no "hints" (at least one)' : '{step}: "hints" must be a non-empty list of text') })
      .min(1, { error: '{step}: "hints" must be a non-empty list of text' }),
    explain: z.string({ error: '{step} has no "explain"' }).trim().min(1, { error: '{step} has no "explain"' }),
    /**
     * What the learner's session must already have for this step to be possible (a message line needs
     * an open message). A resumed lesson goes back to the last step a fresh session can do.
     */
    needs: z
      .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(oneOf(STEP_NEEDS, 'needs'), { error: `{step}: needs must be one or more of ${STEP_NEEDS.join(', ')}` }))
      .optional(),
  };

  const stepSchema = z.strictObject(stepShape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `{step} has an unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(stepShape))} (expected ${keyList(stepShape)})`
        : '{step} must be a mapping (instruction, expect, hints, explain)',
  });

  /** Client lines as typed: YAML reads `250` or `true` as a number or a boolean; a line is its text. */
  const lines = (key: string) =>
    z
      .array(z.union([z.string(), z.number(), z.boolean()], { error: `a line of "${key}" must be text` }).transform(String), {
        error: (iss) => (missing(iss) ? `missing "${key}" (the reference client lines)` : `"${key}" must be a non-empty list of lines`),
      })
      .min(1, { error: `"${key}" must be a non-empty list of lines` });

  const frontMatterShape = {
    title: z.string({ error: 'missing "title"' }).trim().min(1, { error: 'missing "title"' }),
    /** One stage or a list of them. */
    stage: z.preprocess(
      (v) => (v === undefined || Array.isArray(v) ? v : [v]),
      z
        .array(stageSchema, { error: `missing "stage" (one of ${STAGES.join(', ')}, or a list of them)` })
        .min(1, { error: '"stage" is an empty list' }),
    ),
    /** The lesson's position in the curriculum. */
    order: z.number({ error: (iss) => (missing(iss) ? 'missing "order" (the lesson\'s position in the curriculum)' : '"order" must be a number') }),
    summary: z.string({ error: '"summary" must be text' }).optional(),
    /** Merged over world.yaml for this lesson only. */
    world: z.record(z.string(), z.unknown(), { error: '"world" must be a mapping (merged over world.yaml)' }).optional(),
    steps: z
      .array(stepSchema, { error: (iss) => (missing(iss) ? 'missing "steps"' : '"steps" must be a non-empty list') })
      .min(1, { error: '"steps" must be a non-empty list' }),
    /** The reference client lines: `lessons check` replays them and every step must pass. */
    solution: lines('solution'),
    /**
     * Near-misses that must not pass: attempts a learner really makes (`{ why, lines }` each), or one
     * list of lines. Absent: `lessons check` removes one line of the solution.
     */
    wrong: z
      .preprocess(
        // One list of lines is one near-miss.
        (v) => (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null) ? [{ why: 'the declared wrong attempt', lines: v }] : v),
        z.array(
          z.strictObject(
            {
              why: z.string({ error: 'a near-miss in "wrong" needs "why": what it gets wrong' }).trim().min(1, { error: 'a near-miss in "wrong" needs "why": what it gets wrong' }),
              lines: lines('wrong.lines'),
            },
            { error: (iss) => (iss.code === 'unrecognized_keys' ? `a near-miss in "wrong" has an unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, ['why', 'lines'])} (expected why, lines)` : 'a near-miss in "wrong" is { why, lines }') },
          ),
          { error: '"wrong" must be a list of lines, or a list of { why, lines }' },
        ),
      )
      .optional(),
  };

  const frontMatterSchema = z.strictObject(frontMatterShape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, Object.keys(frontMatterShape))} (expected one of ${keyList(frontMatterShape)})`
        : 'the front matter must be a mapping (title, stage, order, steps, solution)',
  });

  return { predicateSchema, stepSchema, frontMatterSchema };
}

type LessonSchemas = ReturnType<typeof buildLessonSchemas>;
let built: LessonSchemas | undefined;

/** The schemas of a lesson's front matter, its steps and their predicates, built on the first call. */
export function lessonSchemas(): LessonSchemas {
  return (built ??= buildLessonSchemas(zod()));
}

export type FrontMatter = Z.output<LessonSchemas['frontMatterSchema']>;
export type StepFrontMatter = Z.output<LessonSchemas['stepSchema']>;
