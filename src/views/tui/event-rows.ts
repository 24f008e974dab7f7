/**
 * What rows one event makes in the transcript, and which block each belongs to: the words come from
 * describe.ts (the one formatter every view uses), the layout (indent, tone, tag, explanation) is the
 * transcript's. Keeps the model's open sessions, relay legs, queue origins and counters as it goes.
 */
import type { LabEvent } from '../../events/types.js';
import { taughtKind } from '../../lessons/curriculum.js';
import { describeEvent } from '../describe.js';
import type { FrameRows } from './frame-rows.js';
import { learnerClosed, learnerLine, learnerQueued, lessonStarted } from './learner-stages.js';
import { countEvent } from './queue-counts.js';
import { isLearner, remember, shortId, YOU } from './transcript-groups.js';
import type { Tone, TranscriptModel } from './transcript-model.js';

/** Rows sit under their session's or message's header: the queue id is said there. */
const GROUPED = { grouped: true } as const;

/** How the lab's queue names its remote MTAs when it starts (src/lab/queue.ts). */
const REMOTE_MTAS = 'remote MTAs on loopback:';

/** A delivery's outcome, by how it reads. */
const OUTCOME_TONE: Record<'delivered' | 'deferred' | 'bounced', Tone> = { delivered: 'ok', deferred: 'warn', bounced: 'error' };

/** A kind of event a later lesson teaches (the tutor says which): pointed at, not explained. */
function untilTaught(model: TranscriptModel, e: LabEvent, explain: string | undefined): string | undefined {
  return model.laterLessons.explain(e, explain, model.mode === 'tutor' ? model.later?.()?.[taughtKind(e)] : undefined);
}

export interface EventContext {
  /** The block the event belongs to (transcript-groups.ts). */
  group: string | undefined;
  /** The explanation this view gives it now (explain memory, other people's left out). */
  explain: string | undefined;
  /** The current time as HH:MM:SS, for queue notes and watch's wire rows. */
  now: string | undefined;
}

/** Appends the rows `e` makes to `out`. Returns true when the transcript restarts (a lesson restart). */
export function eventRows(model: TranscriptModel, e: LabEvent, { group, explain, now }: EventContext, out: FrameRows): boolean {
  const mine = group === YOU;
  if (model.openStep && ((mine && e.type === 'wire' && e.direction === 'client') || (e.type === 'tutor' && e.says === 'echo'))) model.openStep.acted = true;
  const wire = model.wire.on ? model.wire : undefined;
  const push = out.push.bind(out);
  countEvent(model.counts, model.waiting, e);
  // Someone else's session in the tutor: tagged, so it never reads as the learner's own line.
  const tagOf = (session: string | undefined) => (mine || model.mode === 'watch' || session === undefined ? undefined : shortId(session));
  switch (e.type) {
    case 'listening':
      if (model.mode === 'tutor' && model.listened) {
        model.restarted = true;
        push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, text: `the lab restarted with the world this lesson needs: ${e.hostname} on ${e.host}:${e.port} as before` }, undefined, true);
        break;
      }
      model.listened = true;
      push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, explain, text: describeEvent(e, GROUPED)!, items: true }, undefined, true);
      break;
    case 'session-open': {
      model.sessions.set(e.session, {
        id: e.session,
        leg: e.leg,
        remote: e.leg === 'relay' && e.mx ? `→ ${e.mx}` : `${e.remoteAddress}:${e.remotePort}`,
        stage: e.stage,
        queueId: e.queueId,
        lines: 0,
      });
      if (e.queueId) model.relayQueue.set(e.session, e.queueId);
      // Inbound opens print as the group header when the first line arrives; relay legs say where they go.
      if (e.leg === 'relay') {
        push({ kind: 'note', indent: 2, tone: 'info', stage: e.stage, explain, text: `relay session ${shortId(e.session)} ${e.mx ? `to ${e.mx}` : 'opened'}` }, group, false);
      }
      break;
    }
    case 'session-close': {
      if (model.mode === 'watch' || e.leg === 'relay' || mine) {
        // The learner's client is the tutor's: a close without QUIT or a 421 is the tutor's doing (a
        // new lesson, :reconnect, :connect), which a bare "(reset)" did not say. Not so for a session
        // of the learner's own program (lesson 22's :run), which closes its sockets itself.
        const byTutor = mine && model.mode === 'tutor' && e.reason === 'reset' && model.learnerSessions.has(e.session);
        const how = byTutor ? 'by the tutor, without QUIT' : `(${e.reason})`;
        push({ kind: 'note', indent: e.leg === 'relay' ? 2 : 0, tone: e.reason === 'quit' || byTutor ? 'info' : 'warn', stage: e.stage, explain, text: `${e.leg === 'relay' ? 'relay session' : mine ? 'your session' : 'session'} ${shortId(e.session)} closed ${how}`, tag: tagOf(e.session) }, group, mine);
      }
      if (mine) learnerClosed(model, e.session);
      // Forgotten only now: the header printed for this last row still names the session's address.
      model.sessions.delete(e.session);
      model.relayQueue.delete(e.session);
      break;
    }
    case 'wire': {
      if (model.mode === 'watch' && e.data && e.leg === 'inbound' && model.flood.hide(e)) {
        const open = model.sessions.get(e.session);
        if (open) open.lines++;
        break;
      }
      const s = model.sessions.get(e.session);
      if (s) {
        s.stage = e.stage;
        s.lastLine = e.line;
        s.lastDirection = e.direction;
        s.lines++;
      }
      if (mine) learnerLine(model, e);
      const relay = e.leg !== 'inbound';
      // Relay lines need no tag: they sit under their message's header.
      const tag = relay ? undefined : tagOf(e.session);
      push(
        {
          kind: 'wire',
          indent: relay ? 2 : 0,
          direction: e.direction,
          line: wire ? wire.sent(e) : e.line,
          ...(wire ? { shown: true } : {}),
          stage: e.stage,
          explain,
          code: e.code,
          data: e.data,
          ...(model.groups.pipelined(e) ? { pipelined: true } : {}),
          ...(model.groups.answers(e) ? { answers: model.groups.answers(e) } : {}),
          leg: e.leg,
          tag,
          ...(model.mode === 'watch' && now ? { time: now } : {}),
        },
        group,
        mine,
      );
      const stuffed = wire?.stuffed(e);
      for (const text of [...(stuffed ? [stuffed] : []), ...(wire?.after(e) ?? [])]) push({ kind: 'note', indent: relay ? 2 : 0, tone: 'info', stage: e.stage, text }, group, mine);
      break;
    }
    case 'tcp-read':
      if (wire) push({ kind: 'note', indent: 0, tone: 'warn', stage: e.stage, text: wire.read(e) }, isLearner(model, e.session) ? YOU : `s:${e.session}`, isLearner(model, e.session));
      break;
    case 'queued':
      if (e.session) remember(model.queueOrigin, e.queueId, e.session);
      if (mine) learnerQueued(model);
      push({ kind: 'note', indent: 0, tone: 'ok', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)!, tag: tagOf(e.session) }, group, mine);
      break;
    case 'mx-lookup':
      push({ kind: 'note', indent: 1, tone: e.error ? 'warn' : 'info', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, false);
      break;
    case 'delivered':
    case 'deferred':
    case 'bounced':
      push({ kind: 'note', indent: 1, tone: OUTCOME_TONE[e.type], stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, isLearner(model, model.queueOrigin.get(e.queueId)));
      break;
    case 'dns-lookup':
    case 'dkim-signed':
    case 'auth-results': {
      const tone = e.type === 'auth-results' ? (e.action === 'reject' ? 'error' : 'info') : e.type === 'dns-lookup' && e.error ? 'warn' : 'info';
      // The learner's: checks of their mail, their own :dns, and the forger they set off with :spoof.
      const theirs = e.queueId ? isLearner(model, model.queueOrigin.get(e.queueId)) : e.type === 'auth-results' ? !!e.forged : e.type === 'dns-lookup' && e.by === 'you';
      // The learner's own `:dns` is answered by the tutor's report right after it, the record whole: the
      // row says what was asked, and the answer once (a newcomer's trial: it was on screen twice).
      const yours = model.mode === 'tutor' && e.type === 'dns-lookup' && e.by === 'you';
      const text = yours ? `DNS ${e.rrtype} ${e.name} (asked by you; the answer follows)` : describeEvent(e, GROUPED)!;
      // The answer starts a line of its own rather than break inside a record ("v=spf1 … -all").
      const keep = e.type === 'dns-lookup' && !e.error && !yours ? text.slice(text.indexOf('): ') + 3) : undefined;
      // Through the explain memory like every line (full once a lesson, then brief): lesson 18 printed the
      // 7-line DNS paragraph in full under each of three lookups.
      const explainNow = e.type === 'dns-lookup' && e.by === 'you' ? explain : untilTaught(model, e, explain);
      push({ kind: 'note', indent: e.type === 'dns-lookup' ? 2 : 1, tone, stage: e.stage, explain: explainNow, text, keep }, group, theirs);
      break;
    }
    case 'relay-denied':
      push({ kind: 'note', indent: 0, tone: 'error', stage: e.stage, explain, text: describeEvent(e, GROUPED)!, tag: tagOf(e.session) }, group, mine);
      break;
    case 'remote-accepted':
      push({ kind: 'note', indent: 1, tone: 'info', stage: e.stage, explain: untilTaught(model, e, explain), text: describeEvent(e, GROUPED)! }, undefined, true);
      break;
    case 'tls':
      push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, explain: e.explain, text: describeEvent(e, GROUPED)!, tag: tagOf(e.session) }, group, mine);
      break;
    case 'notice':
      if (model.restarted && !e.session && e.message.startsWith(REMOTE_MTAS)) {
        model.restarted = false;
        break;
      }
      push({ kind: 'note', indent: 0, tone: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : 'info', stage: e.stage, explain, text: e.message, ...(e.message.startsWith(REMOTE_MTAS) ? { items: true } : {}) }, group, mine || !e.session);
      break;
    case 'fault':
      push({ kind: 'note', indent: 0, tone: 'warn', stage: e.stage, explain: e.explain, text: describeEvent(e, GROUPED)! }, group, mine || !e.session);
      break;
    case 'tutor':
      if (model.mode === 'tutor') tutorRows(model, e, out);
      break;
    case 'lesson':
      if (e.action === 'start' || e.action === 'restart') lessonStarted(model);
      if (e.action === 'restart') {
        // A fresh transcript for the restarted lesson: what came before stays in the scrollback.
        out.restart();
        model.generation++;
        push({ kind: 'note', indent: 0, tone: 'ok', text: `↺ lesson ${e.lesson} restarted` }, undefined, true);
        return true;
      }
      break;
  }
  return false;
}

/** The tutor's words: a row each, or paged over the live area when they are taller than a small screen. */
function tutorRows(model: TranscriptModel, e: Extract<LabEvent, { type: 'tutor' }>, out: FrameRows): void {
  switch (e.says) {
    case 'reading':
      // Paged over the live area (the transcript keeps the short start and the `:read` echo).
      model.reading = { id: model.nextId++, kind: 'reading', text: e.text };
      return;
    case 'help':
      // Paged too: the commands and the view's keys are ~33 lines, and printed into the transcript
      // their first lines scrolled off a 24-row terminal before they were read.
      model.reading = { id: model.nextId++, kind: 'help', text: model.keysHelp ? `${e.text}\n${model.keysHelp}` : e.text };
      return;
    case 'list':
      // :lessons: 22 lines and more, and at 24 rows lessons 1-9 scrolled off before they were read.
      model.reading = { id: model.nextId++, kind: 'lessons', text: e.text };
      return;
    case 'confirm':
      // Asked once, where the answer is typed: the live area shows the pending question above the
      // y/n prompt (TutorState.confirming). A row here as well printed it twice, one above the other.
      return;
    case 'step':
      // The instruction is shown once, in the live lesson pane where the eye is; the transcript
      // keeps only where each step began. A step the lab passes by itself is over within a second,
      // before the live pane was read: its question goes where it begins, above the events that answer it.
      if (e.watched) {
        out.push({ kind: 'output', indent: 0, output: 'step', text: `▸ ${e.text}` }, undefined, true);
        model.openStep = undefined;
        return;
      }
      out.push({ kind: 'output', indent: 0, output: 'step', text: `▸ ${/^Step \d+\/\d+/.exec(e.text)?.[0] ?? 'Step'}` }, undefined, true);
      model.openStep = { index: e.step, text: e.text, acted: false };
      return;
    case 'explain':
      // A step passed with nothing done since its mark (the lab did it: a relay, a retry): its instruction
      // above its explanation, which otherwise answers words the learner never read (a newcomer's trial).
      if (model.openStep && !model.openStep.acted && model.openStep.index === e.step) out.push({ kind: 'output', indent: 0, output: 'step', text: `▸ ${model.openStep.text}` }, undefined, true);
      model.openStep = undefined;
      out.push({ kind: 'output', indent: 0, output: e.says, text: e.text }, undefined, true);
      return;
    default:
      out.push({ kind: 'output', indent: 0, output: e.says, text: e.text }, undefined, true);
  }
}
