/**
 * The note on a line holding a bare CR or LF, as the learner reads it: which bare ending it holds,
 * then the rule and its RFC sections from lessons/annotations.yaml (an instructor's annotations file
 * words it its own way), once per session.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAnnotations } from '../../src/data/annotations.js';
import type { NoticeEvent } from '../../src/events/types.js';
import { RawSmtp, code, startTestLab, tempDir, type TestLab } from '../helpers/lab.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const envelope = ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA'];
const RULE = 'SMTP lines end only in CRLF; a bare one is shown, never obeyed (RFC 5321 §2.3.8, §4.1.1.4)';

describe('a line holding a bare CR or LF', () => {
  it('is noted once in the tutor, naming what the line holds, with the rule and where the RFC says it', async () => {
    const { send, transcript } = await start('04-data');
    // The server reports a message line when the next one arrives: the dot ends the message (refused:
    // the lab is a strict relay about a bare LF).
    await send([...envelope, 'Subject: raw', '', ':raw one\\n.\\ntwo', ':raw three\\rfour\\nfive', '.']);
    expect(transcript()).toContain(`this line holds a bare LF (␊): ${RULE}`);
    expect(transcript()).not.toContain('this line holds a bare CR (␍) and a bare LF (␊)');
  });

  it('names a bare CR and a bare LF together, and either alone', () => {
    const a = loadAnnotations();
    expect(a.bareLineEndNotice('a\rb\nc')).toBe(`this line holds a bare CR (␍) and a bare LF (␊): ${RULE}`);
    expect(a.bareLineEndNotice('QUIT\r')).toBe(`this line holds a bare CR (␍): ${RULE}`);
    expect(a.bareLineEndNotice('EHLO t.test')).toBeUndefined();
  });

  describe('in a lab with an instructor’s annotations file', () => {
    let lab: TestLab | undefined;
    afterEach(async () => {
      await lab?.cleanup();
    });

    it('says the rule in that file’s words, and only the bytes where the file has no words for it', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'annotations.yaml');
      writeFileSync(file, 'events:\n  notice/bare-line-end:\n    text: "Only CRLF ends a line"\n    cite: "RFC 5321 §2.3.8"\n');
      lab = await startTestLab({ annotationsFile: file });
      const s = await RawSmtp.connect(lab.port);
      s.write('NOOP\r\r\n');
      expect(code(await s.readReply())).toBe(500);
      s.close();
      const notes = lab.events.filter((e): e is NoticeEvent => e.type === 'notice' && e.level === 'warn');
      expect(notes.map((n) => n.message)).toEqual(['this line holds a bare CR (␍): Only CRLF ends a line (RFC 5321 §2.3.8)']);
      expect(loadAnnotations(file).bareLineEndNotice('\n')).toBe('this line holds a bare LF (␊): Only CRLF ends a line (RFC 5321 §2.3.8)');
      writeFileSync(file, 'events: {}\n');
      expect(loadAnnotations(file).bareLineEndNotice('\n')).toBe('this line holds a bare LF (␊)');
    });
  });
});
