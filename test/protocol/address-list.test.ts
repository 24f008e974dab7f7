/** A header field's addresses as RFC 5322 §3.4 writes them: what lessons' `field: From, address: true` accepts. */
import { describe, expect, it } from 'vitest';
import { isAddressList } from '../../src/protocol/message.js';

describe('an address list (RFC 5322 §3.4)', () => {
  it('takes a name-addr, an addr-spec, and lists of them', () => {
    for (const v of [' Alice <alice@example.com>', 'alice@example.com', '<bob@example.com>', 'Bob <bob@example.com>, postmaster@example.com', ' "Smith, Bob" <bob@example.com>', 'alice@localhost'])
      expect(isAddressList(v), v).toBe(true);
  });

  it('refuses a display name beside a bare address, a name alone, and an empty value', () => {
    for (const v of [' Alice alice@example.com', ' Bob', '', 'Alice <alice example.com>', 'alice@@example.com'])
      expect(isAddressList(v), v).toBe(false);
  });
});
