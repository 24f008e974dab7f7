/** RFC 5322 §3.3 date-time, always in UTC ("Sat, 28 Nov 2026 23:10:00 +0000"). Pure. */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * Why a Date: field's value is not an RFC 5322 §3.3 date-time, or undefined when it is one:
 *   [ day-of-week "," ] day month year hour ":" minute [ ":" second ] zone [ CFWS ]
 * e.g. "Sat, 28 Nov 2026 12:00:00 +0000 (UTC)". Comments (CFWS, §3.2.2) are allowed, so they are
 * dropped before the match. The obsolete forms of §4.3 (zone names like GMT, two-digit years) are
 * refused with words that say what they are: a parser MUST accept them, but this judges what a
 * learner writes, and §4 says a message MUST NOT be generated with the obsolete syntax. The words
 * name the first thing wrong.
 */
export function dateTimeProblem(value: string): string | undefined {
  const v = withoutComments(value).trim().replace(/\s+/g, ' ');
  if (v === '') return 'it is empty';
  const m = /^(?:([A-Za-z]+) ?, ?)?(\d{1,2}) ([A-Za-z]+) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? ([+-]\d{4})$/.exec(v);
  if (!m) return shapeProblem(v);
  const [, dow, dd, mon, yyyy, hh, mi, ss, zone] = m;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === mon!.toLowerCase());
  if (month === -1) return `"${mon}" is not a month name: RFC 5322 §3.3 wants Jan, Feb, … Dec`;
  if (dow !== undefined && !DAYS.some((x) => x.toLowerCase() === dow.toLowerCase())) return `"${dow}" is not a day name: RFC 5322 §3.3 wants Mon, Tue, … Sun`;
  const day = Number(dd);
  const year = Number(yyyy);
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return `${MONTHS[month]} ${year} has no day ${day}`;
  if (Number(hh) > 23 || Number(mi) > 59 || (ss !== undefined && Number(ss) > 60)) return `${hh}:${mi}${ss === undefined ? '' : `:${ss}`} is not a time of day`;
  const zh = Number(zone!.slice(1, 3));
  const zm = Number(zone!.slice(3));
  if (zh > 99 || zm > 59) return `${zone} is not a zone: +hhmm or -hhmm, its minutes 00-59`;
  if (dow !== undefined) {
    const actual = DAYS[new Date(Date.UTC(year, month, day)).getUTCDay()]!;
    if (actual.toLowerCase() !== dow.toLowerCase()) return `${day} ${MONTHS[month]} ${year} is a ${actual}, not a ${dow}: the day of the week MUST be the one the date implies (RFC 5322 §3.3)`;
  }
  return undefined;
}

/** What a value that is not shaped like a date-time lacks, in the order §3.3 writes it. */
function shapeProblem(v: string): string {
  const noDow = v.replace(/^[A-Za-z]+ ?, ?/, '');
  if (!/^\d{1,2} [A-Za-z]+ \d{2,4}\b/.test(noDow)) return 'it does not start with a date like `5 Dec 2026` (day, month name, four-digit year)';
  if (/^\d{1,2} [A-Za-z]+ \d{2,3}\b/.test(noDow) && !/^\d{1,2} [A-Za-z]+ \d{4}/.test(noDow)) return 'the year has fewer than four digits';
  const rest = noDow.replace(/^\d{1,2} [A-Za-z]+ \d{4} ?/, '');
  if (rest === '') return 'it has a date but no time and zone (like `12:00:00 +0000`)';
  if (!/^\d{2}:\d{2}(:\d{2})?\b/.test(rest)) return 'the time is not hh:mm or hh:mm:ss, two digits each';
  const zone = rest.replace(/^\d{2}:\d{2}(:\d{2})? ?/, '');
  if (zone === '') return 'it has no zone after the time (like `+0000`)';
  const obsolete = OBS_ZONES[zone.toUpperCase()] ?? (/^[A-IK-Z]$/i.test(zone) ? '+0000' : undefined);
  if (obsolete)
    return `"${zone}" is the obsolete zone form (RFC 5322 §4.3): readers accept it, but a message must not be written with it (§4); write the numeric zone, \`${obsolete}\``;
  return `"${zone}" is not a zone: RFC 5322 §3.3 wants +hhmm or -hhmm, like \`+0000\``;
}

/** RFC 5322 §4.3 obs-zone names and the offsets they stand for. A military letter's meaning was lost (§4.3 reads it as -0000), so the advice for one is +0000. */
const OBS_ZONES: Record<string, string> = { UT: '+0000', GMT: '+0000', EST: '-0500', EDT: '-0400', CST: '-0600', CDT: '-0500', MST: '-0700', MDT: '-0600', PST: '-0800', PDT: '-0700' };

/**
 * The value with its comments (RFC 5322 §3.2.2: parenthesised, nestable, a backslash quotes the next
 * character) replaced by a space: CFWS may stand between the parts of a date-time and after it.
 */
function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (depth > 0 && c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
    } else if (depth === 0) out += c;
  }
  return out;
}
