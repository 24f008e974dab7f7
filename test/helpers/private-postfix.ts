/**
 * A private, real Postfix: its own config, queue and data directories under a temp dir, `relayhost` =
 * the lab, and a mail log in a file (a container has no syslog). By default it has no smtpd listener at
 * all (nothing of it is reachable) and mail is injected with Postfix's own `sendmail -C`; with `smtpdPort`
 * it also listens on 127.0.0.1 there, so a load generator (Postfix's smtp-source) can feed it. Postfix's master
 * runs as root and drops to the `postfix` user, so this needs root (as CI and the dev container are).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort as anyFreePort } from './free-port.js';

const POSTFIX = '/usr/sbin/postfix';
const DAEMONS = spawnSync('postconf', ['-h', 'daemon_directory'], { encoding: 'utf8' }).stdout?.trim() || '/usr/lib/postfix/sbin';

/** Why a private Postfix cannot run here (undefined when it can). */
export function postfixUnavailable(): string | undefined {
  if (!existsSync(POSTFIX)) return 'postfix is not installed: apt-get install postfix (.ci/run does)';
  if (process.getuid?.() !== 0) return 'a private Postfix needs root (its master starts as root and drops to the postfix user); run the suite as root, as CI does';
  return undefined;
}

// Only the services a relay-only client needs, none chrooted (the temp queue has no /etc inside), and
// no `smtp inet` line: this Postfix sends but never listens.
const MASTER_CF = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export interface PrivatePostfix {
  /** Hand a message to Postfix as a local user would (`sendmail -C DIR -f from to`). */
  send(from: string, to: string, message: string): void;
  /** The mail log so far (for a failing test's message). */
  log(): string;
  /** `postfix stop` and remove the directories; safe to call twice. */
  stop(): void;
}

export interface PostfixOptions {
  /** Listen with smtpd on 127.0.0.1:smtpdPort (relaying for 127.0.0.1 only, Postfix's default mynetworks). */
  smtpdPort?: number;
  /** More main.cf settings, over the ones below (e.g. short retry times). */
  settings?: Record<string, string>;
}

/**
 * startPostfix with smtpd on a port free a moment ago. Between freePort's close and master's bind
 * another test can take it: master then exits 1 and says nothing (its log daemon is not up yet), as
 * a full CI run once saw. A few fresh ports before that counts as a failure.
 */
export async function startPostfixOnFreePort(start: (smtpdPort: number) => PrivatePostfix, freePort: () => Promise<number> = anyFreePort): Promise<{ postfix: PrivatePostfix; smtpdPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const smtpdPort = await freePort();
    try {
      return { postfix: start(smtpdPort), smtpdPort };
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

export function startPostfix(relayPort: number, myhostname: string, options: PostfixOptions = {}): PrivatePostfix {
  const root = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-postfix-'));
  // mkdtemp makes it 0700: the postfix user must be able to reach its queue and data dirs inside.
  chmodSync(root, 0o755);
  const etc = path.join(root, 'etc');
  const data = path.join(root, 'data');
  const spool = path.join(root, 'spool');
  mkdirSync(etc);
  // The queue and data directories as postfix-files lays them out. `postfix start` would make them
  // itself, but its checks take 3–6 s; master -w takes a tenth of a second.
  const postfixUid = Number(spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim());
  const postdropGid = Number(spawnSync('getent', ['group', 'postdrop'], { encoding: 'utf8' }).stdout.split(':')[2]);
  const dir = (p: string, mode: number, uid: number, gid = -1) => {
    mkdirSync(p, { mode });
    chmodSync(p, mode);
    chownSync(p, uid, gid);
  };
  dir(data, 0o700, postfixUid);
  dir(spool, 0o755, 0);
  dir(path.join(spool, 'pid'), 0o755, 0);
  for (const d of ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace']) dir(path.join(spool, d), 0o700, postfixUid);
  dir(path.join(spool, 'maildrop'), 0o730, postfixUid, postdropGid);
  dir(path.join(spool, 'public'), 0o710, postfixUid, postdropGid);
  const smtpd = options.smtpdPort ? `127.0.0.1:${options.smtpdPort} inet n - n - - smtpd\n` : '';
  writeFileSync(path.join(etc, 'master.cf'), MASTER_CF + smtpd);
  writeFileSync(path.join(etc, 'main.cf'), '');
  const maillog = path.join(root, 'maillog');
  const settings = {
    compatibility_level: '3.6',
    queue_directory: spool,
    data_directory: data,
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    myhostname,
    mydomain: myhostname.split('.').slice(1).join('.') || 'localdomain',
    myorigin: myhostname,
    // Nothing is local to this Postfix: every recipient goes to the relayhost, the lab.
    mydestination: '',
    local_transport: 'error:no local delivery',
    alias_maps: '',
    alias_database: '',
    relayhost: `[127.0.0.1]:${relayPort}`,
    smtp_tls_security_level: 'none',
    // One session per delivery, ended with QUIT at once, not kept 2 s in the connection cache.
    smtp_connection_cache_on_demand: 'no',
    maillog_file: maillog,
    // Postfix refuses a maillog_file outside these prefixes (default /var, /dev/stdout), silently.
    maillog_file_prefixes: root,
    ...options.settings,
  };
  const postconf = spawnSync('postconf', ['-c', etc, '-e', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)], { encoding: 'utf8' });
  if (postconf.status !== 0) throw new Error(`postconf failed: ${postconf.stderr}`);
  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  let running = false;
  const stop = () => {
    if (running) spawnSync(POSTFIX, ['-c', etc, 'stop'], { timeout: 15_000 });
    running = false;
    rmSync(root, { recursive: true, force: true });
  };
  // master -w: returns once the master daemon is up (or has failed), as `postfix start` does at its end.
  const start = spawnSync(path.join(DAEMONS, 'master'), ['-c', etc, '-w'], { encoding: 'utf8', timeout: 30_000 });
  running = true;
  if (start.status !== 0) {
    const why = `postfix start failed (${start.status}): ${start.stderr}\n${log()}`;
    stop();
    throw new Error(why);
  }
  return {
    send(from, to, message) {
      const r = spawnSync('/usr/sbin/sendmail', ['-C', etc, '-f', from, to], { input: message, encoding: 'utf8', timeout: 15_000 });
      if (r.status !== 0) throw new Error(`sendmail failed (${r.status}): ${r.stderr}\n${log()}`);
    },
    log,
    stop,
  };
}
