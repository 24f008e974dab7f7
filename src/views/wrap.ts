/**
 * Word-wrap for the plain views on a terminal, so an explanation under a transcript line breaks
 * between words and keeps its indent instead of being cut mid-word by the terminal. Pipes get one
 * line per event (width undefined): easier to grep. Widths are display columns (string-width, ANSI
 * colour codes take none, CJK and emoji two); the breaking is wrap-ansi's, which keeps colours right
 * across a break.
 */
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';

/** Narrower than this, a hanging indent leaves too little room: the text wraps flush instead. */
const MIN_ROOM = 20;

/**
 * `lead` and then `text`, wrapped between words to `width` columns with the continuation lines under
 * the text's start. A word wider than the room is cut (wrap-ansi's `hard`): the alternative is a line
 * the terminal cuts at its edge anyway, with the continuation at column 0.
 */
export function wrapHanging(lead: string, text: string, width: number): string {
  const hang = stringWidth(lead);
  const indent = /^ */.exec(lead)![0];
  // Too little room beside the lead: the lead becomes part of the text, which hangs under its indent.
  if (width - hang < MIN_ROOM && indent.length < hang) return wrapHanging(indent, lead.slice(indent.length) + text, width);
  const pad = ' '.repeat(hang);
  const room = Math.max(1, width - hang);
  return wrapAnsi(breakableWords(text, room), room, { hard: true, trim: true })
    .split('\n')
    .map((l, i) => (i === 0 ? lead : pad) + l)
    .join('\n');
}

/**
 * A word wider than the room given places to break, so wrap-ansi does not cut it at the edge: a path
 * (a Maildir file, delivered) after its `/`s, not mid-name ("…/mail/exampl" / "e.com/bob/…"); base64
 * (a DKIM signature's b=) in even pieces, not 69 columns and then 6. Any two pieces together are wider
 * than the room, so they never share a line, and the space between them is the one trimmed at the break.
 */
function breakableWords(text: string, room: number): string {
  return text.replace(/[^\s\u001b]*\/[^\s\u001b]*|[A-Za-z0-9+/=]{40,}/g, (word) => {
    if (stringWidth(word) <= room) return word;
    if (!/^[/~]/.test(word) && /^(?:[a-z]+=)?[A-Za-z0-9+/]+=*;?$/.test(word)) {
      const n = Math.ceil(word.length / room);
      const size = Math.ceil(word.length / n);
      return Array.from({ length: n }, (_, i) => word.slice(i * size, (i + 1) * size)).join(' ');
    }
    const pieces: string[] = [];
    let piece = '';
    for (const part of word.split(/(?<=\/)/)) {
      if (piece && stringWidth(piece + part) > room) {
        pieces.push(piece);
        piece = '';
      }
      piece += part;
    }
    return [...pieces, piece].join(' ');
  });
}

export function wrapIndented(text: string, width: number | undefined, indent: number): string {
  if (!width || width - indent < MIN_ROOM) return ' '.repeat(indent) + text;
  return wrapHanging(' '.repeat(indent), text, width);
}

/** The terminal's width when `out` is one, else undefined. */
export function columnsOf(out: NodeJS.WritableStream): number | undefined {
  const tty = out as NodeJS.WriteStream;
  return tty.isTTY ? tty.columns : undefined;
}

/**
 * The width to lay text out at: the terminal's; off a terminal `COLUMNS` when set (a script that
 * knows its page), else 80 — text meant for a person still reads best in lines, even in a file.
 */
export function outputWidth(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): number {
  const columns = columnsOf(out) ?? Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

/**
 * What a plain line hangs under when it wraps: its indent and its label — a `[stage]` column, or a
 * one-character mark such as the `↳` of an explanation — so a continuation lines up with its text.
 */
const LEAD = /^ *(?:\[[a-z-]+\] +|[↳»?✓✗!•>] )?/;

/** Each line of `text` (ANSI colours allowed) wrapped to `width` under its own lead. */
export function wrapLines(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (stringWidth(line) <= width) return line;
      const lead = LEAD.exec(stripVTControlCharacters(line))![0];
      // A colour opened in the lead (the dim of an explanation) stays on across the breaks: a terminal
      // keeps it until it is closed, at the end of the line's text.
      const at = rawIndexAfter(line, lead.length);
      return wrapHanging(line.slice(0, at), line.slice(at), width);
    })
    .join('\n');
}

/** The index in `s` after its first `visible` characters, escape sequences not counted. */
function rawIndexAfter(s: string, visible: number): number {
  let i = 0;
  let seen = 0;
  while (i < s.length && seen < visible) {
    // eslint-disable-next-line no-control-regex
    const esc = /^\u001b\[[0-9;]*[A-Za-z]/.exec(s.slice(i));
    if (esc) i += esc[0].length;
    else {
      i++;
      seen++;
    }
  }
  return i;
}

/**
 * A stream in front of `out` that wraps every line written through it to `width`: for a printer that
 * writes whole lines of its own making (the plain tutor's) and knows nothing of the terminal's edge.
 */
export function wrappingStream(out: NodeJS.WritableStream, width: number): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      out.write(wrapLines(String(chunk), width));
      done();
    },
  });
}
