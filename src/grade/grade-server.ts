/** `grade server`: every check of the suite against HOST:PORT, one after another, in this order. */
import { greeting, earlyTalker } from './server/greeting.js';
import { ehlo, helo } from './server/hello.js';
import { transaction, rcptBeforeMail, dataBeforeRcpt, nestedMail, syntaxError, unknownCommand } from './server/envelope.js';
import { bareLfDot, bareCrDot, dotUnstuffing } from './server/data-end.js';
import { storedIntact, receivedField } from './server/stored.js';
import { rset, noop, quit } from './server/rset-noop-quit.js';
import { commandLine512, textLine1000 } from './server/limits.js';
import { severalMessages, twoClients } from './server/sessions.js';
import { size, pipelining, eightBitMime } from './server/extensions.js';
import { garbage, droppedConnection } from './server/robustness.js';
import { ServerContext, type ServerCheck, type ServerGradeOptions } from './server-context.js';
import { runCheck } from './runner.js';
import { Probe } from './probe.js';
import { summarise, type GradeReport } from './types.js';

/** Harmless checks first; the ones that abuse the server (garbage, a dropped connection) last. */
export const SERVER_CHECKS: ServerCheck[] = [
  greeting,
  earlyTalker,
  ehlo,
  helo,
  transaction,
  rcptBeforeMail,
  dataBeforeRcpt,
  nestedMail,
  syntaxError,
  unknownCommand,
  bareLfDot,
  bareCrDot,
  dotUnstuffing,
  storedIntact,
  receivedField,
  rset,
  noop,
  quit,
  commandLine512,
  textLine1000,
  severalMessages,
  twoClients,
  size,
  pipelining,
  eightBitMime,
  garbage,
  droppedConnection,
];

export function checksOf(suite: ServerGradeOptions['suite']): ServerCheck[] {
  return SERVER_CHECKS.filter((c) => suite === 'full' || c.suite === 'basic');
}

export async function gradeServer(opts: ServerGradeOptions): Promise<GradeReport> {
  const started = Date.now();
  const results = [];
  const unreachable = await reachable(opts);
  for (const check of checksOf(opts.suite)) {
    if (unreachable) {
      // One clear reason for every check, at once: a host that drops SYNs would otherwise cost a
      // connect timeout per check.
      results.push(await runCheck(check, [{ dir: 'note', line: unreachable }], async () => ({ status: 'fail', expected: check.title, explanation: `not run: ${unreachable}` }), opts.timeoutMs));
      continue;
    }
    const ctx = new ServerContext(opts, check.id);
    // A check waits at most `timeoutMs` for each reply; a few waits each, so cap the whole at 6.
    results.push(await runCheck(check, ctx.evidence, () => check.run(ctx), opts.timeoutMs * 6));
    ctx.close();
  }
  return summarise('server', `${opts.target.host}:${opts.target.port}`, results, Date.now() - started, opts.suite);
}

/** Undefined when a TCP connection opens; else why not (the reason every check reports). */
async function reachable(opts: ServerGradeOptions): Promise<string | undefined> {
  try {
    (await Probe.connect(opts.target, [], opts.timeoutMs)).close();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
