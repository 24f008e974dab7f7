import { rfc5322Date } from '../protocol/date.js';

// The date-time has a resolution of a second: under load thousands of messages share one, and each
// Received: field (the lab's, and a simulated remote MTA's) would otherwise format it again.
let dateSecond = -1;
let dateText = '';

/** Now as an RFC 5322 §3.3 date-time, formatted once a second. */
export function rfc5322Now(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = rfc5322Date(new Date(ms));
  }
  return dateText;
}
