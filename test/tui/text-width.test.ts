/**
 * The tutor measures text with a shortcut for characters that are one column each (start-up time:
 * string-width's general path compiles Unicode-property regular expressions at first use). The
 * shortcut must agree with string-width on every character it takes, alone and in runs, and leave
 * everything else (wide, zero-width, combining, emoji) to string-width.
 */
import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { textWidth } from '../../src/views/tui/inline-wrap.js';

describe('text width', () => {
  it('agrees with string-width on every character below U+2800 and a few beyond', () => {
    const disagree: string[] = [];
    const extra = [0x2713, 0x2717, 0x2705, 0x274c, 0x2b50, 0x3042, 0xff21, 0x1f600, 0xfe0f, 0x200d, 0x200b];
    for (let cp = 0; cp < 0x2800; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (textWidth(ch) !== stringWidth(ch)) disagree.push(cp.toString(16));
    }
    for (const cp of extra) if (textWidth(String.fromCodePoint(cp)) !== stringWidth(String.fromCodePoint(cp))) disagree.push(cp.toString(16));
    expect(disagree).toEqual([]);
  });

  it('agrees on the text a learner reads, and on clusters the shortcut must leave alone', () => {
    const texts = [
      'S: 220 mx.example.com ESMTP smtp-lab',
      '   ↳ 220 is the greeting … (RFC 5321 §3.1, §4.2)',
      '▶ connection  · handshake  ✓ transmission — queue → termination ⋯',
      '╭─┬─╮ │ └ ┘ █ ▸ ◀ ␊ ␍ ⇢ ⇉ ↺ × » ›',
      'e\u0301 (an accent that joins its letter)', 'soft\u00adhyphen', '▶\ufe0f', '日本語', 'emoji 😀 and 👩‍💻', 'tab\there', '\u001b[31mred\u001b[39m',
    ];
    for (const t of texts) expect(textWidth(t), t).toBe(stringWidth(t));
  });
});
