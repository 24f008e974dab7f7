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
 * instead of 810: the bench measured its own clean-up. So each section makes its dirs under one scratch
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
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
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

/** One line for a section's header. */
export function fileCreationLine() {
  return `creating a file costs ${fileCreationCostUs().toFixed(0)} µs of kernel time (~20 on this machine's ext4 with no file deleted in the last minutes; far more after mass deletions, such as the test suite's)`;
}
