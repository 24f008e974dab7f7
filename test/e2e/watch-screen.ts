/**
 * Reading the ink watch view back from a tmux capture: each session's rows, found by following the
 * headers ("── session S4 · …" and "── session S4 (cont.) · …"), as `C: …`/`S: …` (a body line is
 * `C: │ …`) and `•: …` for its notes (queued as, closed). A reply too long for the width wraps onto rows
 * indented to the text column; they are joined back.
 */
export interface Row {
  text: string;
  /** The stage label of a C:/S: row ("handshake"); '' for a note. */
  stage: string;
}

export interface ScreenSessions {
  /** Session id → its rows in screen order. */
  rows: Map<string, Row[]>;
}

const ROW = /^\d\d:\d\d:\d\d \[(connection|handshake|security|transmission|queue|termination)\] +([CS])(?: [▶◀]|:) (?:([│]) ?)?(?:[✗!] )?(.*?)\s*$/;

export function sessionsOnScreen(text: string): ScreenSessions {
  const rows = new Map<string, Row[]>();
  let current = '';
  let last: Row | undefined;
  const add = (id: string, text: string, stage = '') => {
    const row = { text, stage };
    rows.set(id, [...(rows.get(id) ?? []), row]);
    return row;
  };
  for (const line of text.split('\n')) {
    const h = /── session (S\d+)[ ·(]/.exec(line);
    if (h) {
      current = h[1]!;
      last = undefined;
      continue;
    }
    if (/── message /.test(line)) {
      current = '';
      last = undefined;
      continue;
    }
    if (!current) continue;
    const w = ROW.exec(line);
    if (w) {
      last = add(current, `${w[2]}: ${w[3] ? '│ ' : ''}${w[4]}`.trimEnd(), w[1]);
      continue;
    }
    const note = /^• (?:\d\d:\d\d:\d\d )?(.*?)\s*$/.exec(line);
    if (note) {
      last = add(current, `•: ${note[1]}`);
      continue;
    }
    // A wrapped row goes on at the text column (well right of an annotation's "   ↳").
    const more = /^ {9,}(\S.*?)\s*$/.exec(line);
    if (more && last) {
      last.text += ` ${more[1]}`;
      continue;
    }
    last = undefined;
  }
  return { rows };
}

/** A session's protocol rows: C:/S: lines without body lines, a group's marks (`⇉ pipelined`, `← MAIL`) taken off. */
export function protocolRows(rows: Row[]): Row[] {
  return rows.filter((r) => /^[CS]: /.test(r.text) && !r.text.startsWith('C: │')).map((r) => ({ ...r, text: r.text.replace(/ (⇉ pipelined|← [A-Z.]+)$/, '') }));
}

/** The session whose rows satisfy `pred`; fails with every session's first rows when none or several do. */
export function oneSession(s: ScreenSessions, what: string, pred: (rows: Row[]) => boolean): Row[] {
  const found = [...s.rows.entries()].filter(([, rows]) => pred(rows));
  if (found.length !== 1) {
    const seen = [...s.rows.entries()].map(([id, rows]) => `${id}: ${protocolRows(rows).slice(0, 12).map((r) => r.text).join(' | ')}`).join('\n');
    throw new Error(`expected one session that is ${what}, found ${found.length}; sessions on screen:\n${seen}`);
  }
  return found[0]![1];
}
