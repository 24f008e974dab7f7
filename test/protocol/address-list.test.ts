/** A header field's addresses as RFC 5322 §3.4 writes them: what lessons' `field: From, address: true` accepts. */
import { describe, expect, it } from 'vitest';
import { isAddressList } from '../../src/protocol/message.js';

describe('an address list (RFC 5322 §3.4)', () => {
  it('takes a name-addr, an addr-spec, lists of them, groups (undisclosed-recipients:;) and comments', () => {
    for (const v of [' Alice <alice@example.com>', 'alice@example.com', '<bob@example.com>', 'Bob <bob@example.com>, postmaster@example.com', ' "Smith, Bob" <bob@example.com>', 'alice@localhost', ' undisclosed-recipients:;', ' friends: a@example.com, b@example.com;', ' alice@example.com (Alice)', ' Alice <alice@example.com> (work)'])
      expect(isAddressList(v), v).toBe(true);
  });

  it('refuses a display name beside a bare address, a name alone, and an empty value', () => {
    for (const v of [' Alice alice@example.com', ' Bob', '', 'Alice <alice example.com>', 'alice@@example.com', ' a@example.com,', ' (a comment alone)', ' group: a@example.com'])
      expect(isAddressList(v), v).toBe(false);
  });
});
