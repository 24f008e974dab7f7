/**
 * Where `npm run bench` keeps its data dirs (spools, Maildirs, MailDev's store), and why none of them is
 * removed before the whole bench has ended.
 *
 * On this kind of machine (ext4, no journal: a VM's disk) creating a file costs what the file system
 * has deleted lately: ext4 does not hand out an inode freed in the last minute (five while its block is
 * dirty), and looks at each such inode of the group in turn for every file it creates (`recently_deleted`
 * in the kernel's find_inode_bit, under `perf`). After the queue section removed its 60,000 files, a
 * Maildir file cost 150 µs of kernel time to create instead of 20 (a loop of open/write/close/rename), and
 * the relay section's mail-auth thread, which stores the remote MTA's copies, spent 1,050 µs a message
 * instead of 700-810: the bench measured its own clean-up. So each section makes its dirs under one scratch
 * root and leaves them; the process that made the root removes it at the end. A bench started right
 * after the test suite (which removes thousands of temporary dirs) still pays for those: the file probe
 * below says so.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ENV = 'SMTP_LAB_BENCH_SCRATCH';
let root = process.env[ENV];

/** The scratch root, made by the first caller in this bench (sections in child processes get it by ENV). */
export function scratchRoot() {
  if (!root) {
    root = mkdtempSync(path.join(tmpdir(), 'smtp-lab-bench-'));
    process.env[ENV] = root;
    const made = root;
    const remove = () => rmSync(made, { recursive: true, force: true });
    process.on('exit', remove);
    // Stopped with Ctrl+C or a kill, a whole bench's dirs (~100,000 files) would stay behind.
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.once(signal, () => process.exit(code));
  }
  return root;
}

/** A fresh dir for one run, kept until the bench ends. */
export function scratchDir(prefix) {
  return mkdtempSync(path.join(scratchRoot(), prefix));
}

/**
 * What creating a file costs the kernel now, in µs (500 Maildir-like files: open, write 2 KiB, close,
 * rename; kept, like every file of the bench): the file system's state the figures were taken in.
 */
export function fileCreationCostUs() {
  const dir = scratchDir('probe-');
  mkdirSync(path.join(dir, 'tmp'));
  mkdirSync(path.join(dir, 'new'));
  const body = Buffer.alloc(2048, 'x');
  const n = 500;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    writeFileSync(path.join(dir, 'tmp', String(i)), body);
    renameSync(path.join(dir, 'tmp', String(i)), path.join(dir, 'new', String(i)));
  }
  return process.cpuUsage(cpu0).system / n;
}

/** A file's creation above this (µs of kernel) means the file system is still paying for recent deletions. */
const SETTLED_US = 60;

/**
 * Before the first section: wait (up to `maxSeconds`) until creating a file costs what it does on a
 * file system with no recent deletions, so a bench started right after the test suite measures the lab,
 * not the suite's clean-up. `sync` first: an inode whose block is still dirty counts as recent for
 * five minutes, a written one for one. Returns a line saying what it found and how long it waited.
 */
export async function settleFileSystem(maxSeconds = 120) {
  const t0 = performance.now();
  const first = fileCreationCostUs();
  let now = first;
  if (now > SETTLED_US) {
    try {
      (await import('node:child_process')).execFileSync('sync');
    } catch {
      // No sync: the wait is longer.
    }
    while (now > SETTLED_US && performance.now() - t0 < maxSeconds * 1000) {
      await new Promise((r) => setTimeout(r, 10_000));
      now = fileCreationCostUs();
    }
  }
  const waited = (performance.now() - t0) / 1000;
  return first <= SETTLED_US
    ? `file system settled: creating a file costs ${first.toFixed(0)} µs of kernel time`
    : `file system: creating a file cost ${first.toFixed(0)} µs of kernel time (recent deletions); after ${waited.toFixed(0)} s of waiting, ${now.toFixed(0)} µs${now > SETTLED_US ? ' — not settled: figures that create files (queue, relay, watch) read high' : ''}`;
}

/** One line for a section's header. */
export function fileCreationLine() {
  return `creating a file costs ${fileCreationCostUs().toFixed(0)} µs of kernel time (~20 on this machine's ext4 with no file deleted in the last minutes; far more after mass deletions, such as the test suite's)`;
}
