/**
 * One lab per data dir. Two labs on one dir would share one spool: each would deliver its messages (so
 * twice) and rewrite its state file under the other, as two Postfix masters on one queue would (Postfix
 * refuses with its master.lock). The lock is a pid file taken with O_EXCL; one whose process is gone (a
 * lab killed -9) is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../user-error.js';

export const LOCK_FILE = 'lab.pid';

/** Take the data dir for this lab, or refuse in one line; returns the release. */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  // This lab's own mark, so a release never removes a lock a later lab has taken over.
  const mark = `${process.pid} ${Date.now()}-${Math.random().toString(36).slice(2)}\n`;
  for (;;) {
    try {
      writeFileSync(file, mark, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mark) unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`data dir ${dataDir} is not usable (${(err as NodeJS.ErrnoException).code}); choose another with --data-dir`);
    }
    const owner = ownerOf(file);
    if (owner !== undefined && alive(owner)) {
      throw new UserError(`another lab (pid ${owner}) is using the data dir ${dataDir}; stop it first, or give this one its own --data-dir`);
    }
    try {
      unlinkSync(file);
    } catch {
      // Another starting lab removed the stale lock first: try again, one of us takes it.
    }
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A lab just killed -9 can linger a moment as a zombie (not yet reaped): it holds nothing any more.
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
