/**
 * A lesson's reading as the tutor says it (`:read`, a demo's start): its heading ("Lesson 5/22: Title
 * [stages]"), then the body, whose first line is the reading's own `# Title` — the title twice, one
 * under the other. Shown once: the heading, which has the lesson's number and stages, as the reading's
 * title (`asHeading`: a Markdown heading, for the views that render Markdown).
 */
const READING_TITLE = /^(Lesson \d+\/\d+: [^\n]*)\n\n#[ \t][^\n]*\n+/;

export function oneTitle(text: string, asHeading: boolean): string {
  return text.replace(READING_TITLE, (_all, heading: string) => `${asHeading ? '# ' : ''}${heading}\n\n`);
}
