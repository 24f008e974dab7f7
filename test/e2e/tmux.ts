/**
 * A real terminal for end-to-end tests: the real binary in a tmux pane (a real pty), driven by
 * send-keys and read with capture-pane — what a person at the keyboard would see. Each harness uses its
 * own tmux server socket (-L) so parallel tests and a developer's own tmux never meet.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { bundleIfStale } from '../../scripts/fresh-bundle.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Rebuild the bundle when something it is made from is newer than it: test what the user runs. `npm
 * test` has just built it (pretest); rebuilding in each e2e file cost seconds and rewrote dist/ while
 * other test files were starting the binary from it.
 */
export function bundle(): void {
  bundleIfStale();
}

/** Shell-quote for a tmux command string. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command a pane runs: smtp-lab `args`, its progress files under `home`, the tutor's code cache the
 * run's own (test/helpers/code-cache.ts; under `home` when there is none), never the developer's.
 */
export function smtpLabCommand(args: string[], home: string): string {
  const q = shellQuote;
  const cache = process.env.SMTP_LAB_TEST_CACHE_HOME ?? path.join(home, 'cache');
  return `cd ${q(ROOT)} && exec env XDG_STATE_HOME=${q(path.join(home, 'state'))} XDG_CACHE_HOME=${q(cache)} ${q(process.execPath)} ${q(path.join(ROOT, 'bin/smtp-lab.js'))} ${args.map(q).join(' ')}`;
}

export function tmuxMissing(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.status !== 0) return 'tmux is not installed: the real-terminal tests need it (apt-get install tmux)';
  // The screen is read by a control-mode client attached with `-f ignore-size,no-output` (tmux 3.2).
  const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(r.stdout) ?? []).slice(1).map(Number);
  return major > 3 || (major === 3 && minor >= 2) ? undefined : `${r.stdout.trim()} is too old: the real-terminal tests need tmux 3.2 or later`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The terminal runs the program as a person would, not as CI: CI=true (set where the suite runs in CI)
 * would make smtp-lab choose its plain view, and ink draw only the last frame. The tmux server takes
 * its environment from the client that starts it.
 */
const USER_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION'));

/**
 * One tmux control-mode client (`tmux -C`) per pane, for the reads a test polls: each command is a line
 * on its stdin and its output comes back between `%begin` and `%end`. A poll through execFileSync forked
 * the test worker (hundreds of MB) and blocked it for the whole tmux run, and the e2e files spent most
 * of their time there. `ignore-size` keeps this client from resizing the window the test chose, and
 * `no-output` spares it the pane's output stream.
 */
class ControlClient {
  private readonly child: ChildProcess;
  private readonly waiting: { resolve(text: string): void; reject(err: Error): void }[] = [];
  /** The open block: its `time number` (its %end repeats them) and whether it answers one of ours. */
  private block: { id: string; ours: boolean; lines: string[] } | undefined;
  private rest = '';
  private stderr = '';
  private ended = false;

  constructor(socket: string, target: string) {
    this.child = spawn('tmux', ['-L', socket, '-f', '/dev/null', '-C', 'attach-session', '-f', 'ignore-size,no-output', '-t', target], {
      env: USER_ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.read(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.child.on('close', () => this.end(new Error(`the tmux control client ended${this.stderr ? `: ${this.stderr.trim()}` : ''}`)));
    this.child.on('error', (err) => this.end(err));
    this.child.stdin!.on('error', () => {});
  }

  private read(data: string): void {
    const lines = (this.rest + data).split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) {
      if (this.block === undefined) {
        // `%begin time number flags`: flags 1 marks the answer to a command this client sent (the attach
        // itself, and a hook's output, come with 0). Outside a block: notifications, not answers.
        const begin = /^%begin (\d+ \d+) (\d+)$/.exec(line);
        if (begin) this.block = { id: begin[1]!, ours: begin[2] === '1', lines: [] };
        continue;
      }
      // Only the %end or %error with this block's time and number ends it: a screen line may read "%end …".
      const end = /^%(end|error) (\d+ \d+) \d+$/.exec(line);
      if (end && end[2] === this.block.id) {
        const { ours, lines: text } = this.block;
        this.block = undefined;
        if (!ours) continue;
        const w = this.waiting.shift();
        const joined = text.length ? `${text.join('\n')}\n` : '';
        if (end[1] === 'end') w?.resolve(joined);
        else w?.reject(new Error(`tmux: ${joined.trim()}`));
      } else this.block.lines.push(line);
    }
  }

  private end(err: Error): void {
    this.ended = true;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  command(line: string): Promise<string> {
    if (this.ended) return Promise.reject(new Error('the tmux control client has ended'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

export class Tmux {
  readonly socket = `smtp-lab-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly target = 'lab';
  private control: ControlClient | undefined;

  private run(args: string[]): string {
    // -f /dev/null: the test's server reads no ~/.tmux.conf (its hooks and key bindings are the developer's).
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: USER_ENV });
  }

  /** Start `command` (a shell string) in a detached session of the given size. The pane stays after exit. */
  start(command: string, width: number, height: number, historyLimit?: number): void {
    // A longer scrollback when a test reads a whole class's transcript back (tmux keeps 2,000 lines).
    const history = historyLimit ? ['start-server', ';', 'set-option', '-g', 'history-limit', String(historyLimit), ';'] : [];
    this.run([...history, 'new-session', '-d', '-s', this.target, '-x', String(width), '-y', String(height), command]);
    // Keep the pane after the process ends: the test reads the last screen and asks whether it died.
    this.run(['set-option', '-t', this.target, 'remain-on-exit', 'on']);
  }

  /** Keys as tmux names them ("Enter", "C-c", "Up") or literal text (`literal: true`). */
  keys(keys: string[], literal = false): void {
    this.run(['send-keys', '-t', this.target, ...(literal ? ['-l'] : []), ...keys]);
  }

  /** Type a line as a person would: the text, then Enter (one tmux run: two commands). */
  line(text: string): void {
    if (text === '') return this.keys(['Enter']);
    this.run(['send-keys', '-t', this.target, '-l', text, ';', 'send-keys', '-t', this.target, 'Enter']);
  }

  /** The visible screen. */
  screen(): string {
    return this.run(['capture-pane', '-p', '-t', this.target]);
  }

  /** The screen plus everything scrolled off it. */
  everything(): string {
    return this.run(['capture-pane', '-p', '-S', '-', '-t', this.target]);
  }

  /** The visible screen, read through the control client (for polling: no fork of this process). */
  capture(): Promise<string> {
    return this.controlClient().command(`capture-pane -p -t ${this.target}`);
  }

  /**
   * The visible screen with the lines the terminal wrapped joined again (`-J`): a line the program
   * wrote wider than the screen reads as one, so a test can tell the program's layout from tmux's wrap.
   */
  captureJoined(): Promise<string> {
    return this.controlClient().command(`capture-pane -p -J -t ${this.target}`);
  }

  /** The screen plus everything scrolled off it, through the control client. */
  captureAll(): Promise<string> {
    return this.controlClient().command(`capture-pane -p -S - -t ${this.target}`);
  }

  private controlClient(): ControlClient {
    return (this.control ??= new ControlClient(this.socket, this.target));
  }

  /**
   * Resize the window, and resolve once the program has been told (the pty has the new size, so its
   * SIGWINCH is on the way). tmux 3.3 re-wraps its screen at once but passes a second resize within
   * 250 ms of the first to the pty only when a timer fires (measured: 100×30 → 120×36 → 80×24 in a row,
   * the program saw 100×30, then 80×24 about 250 ms later, never 120×36). A frame drawn in that gap is
   * laid out for the old width on a screen already narrower, and no program can erase it right: it has
   * not been told. A person dragging a window edge gets the same, but a test must not race it.
   */
  async resize(width: number, height: number): Promise<void> {
    this.run(['resize-window', '-t', this.target, '-x', String(width), '-y', String(height)]);
    const tty = this.run(['display-message', '-p', '-t', this.target, '#{pane_tty}']).trim();
    await this.waitFor(`the pty at ${width}×${height}`, () => execFileSync('stty', ['-F', tty, 'size'], { encoding: 'utf8' }).trim() === `${height} ${width}`, 3000, () => '');
  }

  paneDead(): boolean {
    return this.run(['display-message', '-p', '-t', this.target, '#{pane_dead}']).trim() === '1';
  }

  panePid(): number {
    return Number(this.run(['display-message', '-p', '-t', this.target, '#{pane_pid}']).trim());
  }

  async waitFor(what: string, pred: (text: string) => boolean, timeoutMs = 8000, read: () => string | Promise<string> = () => this.captureAll()): Promise<string> {
    const until = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < until) {
      text = await read();
      if (pred(text)) return text;
      await sleep(50);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${this.screen()}`);
  }

  kill(): void {
    this.control?.close();
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    // tmux leaves the socket file behind; each run makes new ones, so remove ours.
    const dir = path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(path.join(dir, this.socket), { force: true });
  }
}

/**
 * Call at the top of an e2e file (when tmux is there): the bundle is fresh before its tests, and each
 * test's pane and temp folders are gone after it. `pane()` starts a command in a pane of that size;
 * `tempDir()` makes a folder for its data and state.
 */
export function panesPerTest(): { pane(command: string, width: number, height: number, historyLimit?: number): Tmux; tempDir(): string } {
  let tmux: Tmux | undefined;
  const dirs: string[] = [];
  beforeAll(() => bundle(), 60_000);
  afterEach(() => {
    tmux?.kill();
    tmux = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    pane(command, width, height, historyLimit) {
      const t = (tmux = new Tmux());
      t.start(command, width, height, historyLimit);
      return t;
    },
    tempDir() {
      const d = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-e2e-'));
      dirs.push(d);
      return d;
    },
  };
}

/**
 * One pane for the tests of a file that each need the same program started the same way, each going on
 * from the screen the one before left (they run in file order): a start of the binary (~1 s of CPU)
 * per test proved nothing more. `start` runs on the first call; the pane and its folders are gone
 * after the file.
 */
export function sharedPane(start: (pane: (command: string, width: number, height: number) => Tmux, tempDir: () => string) => Promise<Tmux>): () => Promise<Tmux> {
  let started: Promise<Tmux> | undefined;
  let tmux: Tmux | undefined;
  const dirs: string[] = [];
  beforeAll(() => bundle(), 60_000);
  afterAll(() => {
    tmux?.kill();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const pane = (command: string, width: number, height: number) => {
    tmux = new Tmux();
    tmux.start(command, width, height);
    return tmux;
  };
  const tempDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-e2e-'));
    dirs.push(d);
    return d;
  };
  return () => (started ??= start(pane, tempDir));
}

// The tests pass a port explicitly so they can check it is freed.
export { freePort } from '../helpers/free-port.js';

/** True when nothing listens on `port` any more (binding it succeeds). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** The tutor's binary in a fresh pane of the given size, with its own data dir and progress (`args` after them). */
export function binaryInTmux(): (width: number, height: number, args?: string[]) => Tmux {
  const { pane, tempDir } = panesPerTest();
  return (width, height, args = []) => {
    const home = tempDir();
    return pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data'), ...args], home), width, height);
  };
}
