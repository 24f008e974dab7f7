/**
 * The built binary's command table, as a user meets it: --help and --version, and mistakes. Each
 * command's handler is loaded only when it runs (src/commands/handlers/): the table, the help and a
 * usage error must not depend on it, and an error from a handler loaded that way is still one line
 * with its exit status, never a stack trace.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runSmtpLab, type Run } from '../helpers/cli.js';

let stateHome: string;
beforeAll(() => {
  stateHome = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-usage-'));
});
afterAll(() => rmSync(stateHome, { recursive: true, force: true }));

const run = (args: string[]): Promise<Run> => runSmtpLab(args, { stateHome });

const COMMANDS = ['serve', 'watch', 'lessons', 'demo', 'explain', 'queue', 'mailbox', 'world', 'export', 'diagram', 'grade', 'dns', 'spoof', 'fault', 'cert'];

describe('smtp-lab --help and --version', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of COMMANDS) expect(r.stdout, c).toMatch(new RegExp(`^ +smtp-lab ${c}\\b`, 'm'));
  });

  // serve would run until stopped: exit 0 says the handler never ran.
  it("a command's --help shows its options without running it", async () => {
    const r = await run(['serve', '--help', '--port', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--submission-port/);
    expect(r.stdout).toMatch(/--data-dir/);
    expect(r.stdout).toContain(`[default: ${path.join(stateHome, 'smtp-lab', 'data')}]`);
  });

  it('--version prints the version alone', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('mistakes: one line on stderr, no stack trace', () => {
  // Two through the built binary (an argument error, and one from a handler loaded for the run: the
  // bundle's own chunks); the rest through the same command table in this process (src/cli.ts runCli),
  // where each message and exit status is the same without a start of node.
  it.each([
    // The unknown thing named as typed: a flag with its dashes, not as if it were a word of the command.
    ['binary', ['serve', '--bogus'], 2, /^smtp-lab: Unknown argument: --bogus \(see smtp-lab --help\)$/],
    ['in-process', ['no-such-command', '--bogus=3'], 2, /^smtp-lab: Unknown arguments: --bogus, no-such-command \(see smtp-lab --help\)$/],
    // A lessons folder that is not there is a usage error, not a lesson that failed.
    ['binary', ['lessons', 'check', '--dir', '/nonexistent/lessons'], 2, /^smtp-lab: --dir \/nonexistent\/lessons is not a folder/],
    ['in-process', ['lessons', '--lessons', '/nonexistent/lessons'], 2, /^smtp-lab: --dir \/nonexistent\/lessons is not a folder/],
    // `--filter` with nothing after it would show every session, as if it had not been given.
    ['binary', ['watch', '--filter', '--port', '0'], 2, /^smtp-lab: --filter needs what to show: a session id \(S3\)/],
    ['in-process', ['serve', '--port', '70000'], 2, /--port must be a whole number from 0 to 65535/],
    ['in-process', ['no-such-command'], 2, /Unknown argument: no-such-command/],
    // Errors from inside a handler that was loaded for the run.
    ['binary', ['queue', '--data-dir', '/nonexistent/smtp-lab'], 2, /^smtp-lab: no lab spool in \/nonexistent\/smtp-lab/],
    ['in-process', ['explain', 'no-such-term'], 1, /^smtp-lab: no explanation for "no-such-term"/],
    ['in-process', ['lessons', 'reset'], 2, /^smtp-lab: name a lesson to reset, or --all$/],
    ['in-process', ['dns', 'example.com', 'SRV'], 2, /is not a record type the lab serves/],
  ] as const)('%s: %j exits %i', async (via, args, code, message) => {
    const r = via === 'binary' ? await run([...args]) : await runCli([...args], { stateHome });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('zod and yaml, required from their own files beside the bundle', () => {
  it('a lesson folder that is not compiled is parsed and checked by the binary: YAML and schema errors by file and line', async () => {
    const dir = path.join(stateHome, 'own-lessons');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '01-broken-yaml.md'), '---\nid: 01-broken-yaml\ntitle: [unclosed\n---\nText.\n');
    writeFileSync(path.join(dir, '02-no-steps.md'), '---\nid: 02-no-steps\ntitle: No steps\n---\nText.\n');
    const r = await run(['lessons', 'check', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL 01-broken-yaml: .*01-broken-yaml\.md:\d+: front matter is not valid YAML/m);
    expect(r.stdout).toMatch(/^FAIL 02-no-steps: .*02-no-steps\.md:\d+: /m);
    expect(r.stdout).toMatch(/^0 passed, 2 failed$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
