/**
 * A real terminal for end-to-end tests: the real binary in a tmux pane (a real pty), driven by
 * send-keys and read with capture-pane — what a person at the keyboard would see. Each harness uses its
 * own tmux server socket (-L) so parallel tests and a developer's own tmux never meet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Rebuild the bundle when the source is newer than it: test what the user runs. `npm test` has just
 * built it (pretest); rebuilding in each e2e file cost seconds and rewrote dist/ while other test
 * files were starting the binary from it.
 */
export function bundle(): void {
  const built = path.join(ROOT, 'dist', 'smtp-lab.mjs');
  const inputs = [path.join(ROOT, 'package.json'), path.join(ROOT, 'scripts', 'bundle.mjs'), ...sourceFiles(path.join(ROOT, 'src'))];
  if (existsSync(built) && inputs.every((f) => statSync(f).mtimeMs <= statSync(built).mtimeMs)) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Shell-quote for a tmux command string. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command a pane runs: smtp-lab `args`, its progress files under `home` (never the developer's). */
export function smtpLabCommand(args: string[], home: string): string {
  const q = shellQuote;
  return `cd ${q(ROOT)} && exec env XDG_STATE_HOME=${q(path.join(home, 'state'))} ${q(process.execPath)} ${q(path.join(ROOT, 'bin/smtp-lab.js'))} ${args.map(q).join(' ')}`;
}

export function tmuxMissing(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'tmux is not installed: the real-terminal tests need it (apt-get install tmux)';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The terminal runs the program as a person would, not as CI: CI=true (set where the suite runs in CI)
 * would make smtp-lab choose its plain view, and ink draw only the last frame. The tmux server takes
 * its environment from the client that starts it.
 */
const USER_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION'));

export class Tmux {
  readonly socket = `smtp-lab-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly target = 'lab';

  private run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env: USER_ENV });
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

  /** Type a line as a person would: the text, then Enter. */
  line(text: string): void {
    if (text !== '') this.keys([text], true);
    this.keys(['Enter']);
  }

  /** The visible screen. */
  screen(): string {
    return this.run(['capture-pane', '-p', '-t', this.target]);
  }

  /** The screen plus everything scrolled off it. */
  everything(): string {
    return this.run(['capture-pane', '-p', '-S', '-', '-t', this.target]);
  }

  resize(width: number, height: number): void {
    this.run(['resize-window', '-t', this.target, '-x', String(width), '-y', String(height)]);
  }

  paneDead(): boolean {
    return this.run(['display-message', '-p', '-t', this.target, '#{pane_dead}']).trim() === '1';
  }

  panePid(): number {
    return Number(this.run(['display-message', '-p', '-t', this.target, '#{pane_pid}']).trim());
  }

  async waitFor(what: string, pred: (text: string) => boolean, timeoutMs = 8000, read: () => string = () => this.everything()): Promise<string> {
    const until = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < until) {
      text = read();
      if (pred(text)) return text;
      await sleep(50);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${this.screen()}`);
  }

  kill(): void {
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

/** A port that was free a moment ago (the tests pass it explicitly so they can check it is freed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

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
