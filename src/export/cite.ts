/**
 * RFC citations in an explanation ("… (RFC 5321 §4.1.1.1, §3.2; RFC 3463 §3.6)") as links to the
 * RFC Editor's pages, for the Markdown and HTML exports. A bare "§3.2" belongs to the RFC named
 * before it.
 */

export interface CiteSegment {
  text: string;
  href?: string;
}

const CITATION = /RFC\s?(\d{3,5})(?:\s?§\s?(\d+(?:\.\d+)*))?|§\s?(\d+(?:\.\d+)*)/g;

export function rfcUrl(rfc: string, section?: string): string {
  return `https://www.rfc-editor.org/rfc/rfc${rfc}${section ? `#section-${section}` : ''}`;
}

/** The text cut into plain runs and citations with their link. */
export function citeSegments(text: string): CiteSegment[] {
  const out: CiteSegment[] = [];
  let rfc: string | undefined;
  let at = 0;
  for (const m of text.matchAll(CITATION)) {
    if (m[1]) rfc = m[1];
    if (!rfc) continue; // "§2" with no RFC before it: leave as text
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: m[0], href: rfcUrl(rfc, m[1] ? m[2] : m[3]) });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}
