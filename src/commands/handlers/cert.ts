/** `smtp-lab cert`'s handler (its options: ../cert.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { certificateFacts, ensureCertificate } from '../../lab/tls.js';
import { defaultDataDir } from '../../lab/paths.js';
import { loadWorld, WorldFileError } from '../../data/world.js';
import { UserError } from '../../user-error.js';
import { contextOf } from '../context.js';
import type { CertArgs } from '../cert.js';

export async function showCertificate(argv: ArgumentsCamelCase<CertArgs>): Promise<void> {
  const ctx = contextOf(argv);
  let hostname: string;
  try {
    hostname = loadWorld().hostname;
  } catch (err) {
    if (err instanceof WorldFileError) throw new UserError(`bad world file: ${err.message}`);
    throw err;
  }
  const dataDir = argv['data-dir'] ?? defaultDataDir(ctx.env);
  let tls;
  try {
    tls = await ensureCertificate(dataDir, hostname);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`cannot read or make the certificate in ${dataDir} (${e.code ?? e.message}); choose another --data-dir`);
  }
  const f = certificateFacts(tls.cert);
  const ca = JSON.stringify(tls.certFile).slice(1, -1);
  ctx.stdout.write(
    [
      `certificate  ${tls.certFile}`,
      `subject      ${f.subject}`,
      `issuer       ${f.issuer}${f.selfSigned ? '  (itself: self-signed)' : ''}`,
      `valid        ${f.validFrom} to ${f.validTo}`,
      `SHA-256      ${f.fingerprint256}`,
      '',
      f.selfSigned
        ? 'Self-signed: no certificate authority vouches for it, so real clients do not trust it. Trust it for one command by naming it as the CA file:'
        : 'Check a connection against it:',
      `  openssl s_client -starttls smtp -connect 127.0.0.1:${argv.port} -CAfile ${ca} -verify_return_error -verify_hostname ${hostname} -servername ${hostname}`,
      `  openssl s_client -connect 127.0.0.1:${argv['smtps-port']} -CAfile ${ca} -verify_return_error   (implicit TLS)`,
      `  swaks --server 127.0.0.1 --port ${argv['submission-port']} --tls --tls-verify --tls-ca-path ${ca} --auth PLAIN --auth-user alice --auth-password alice-secret -t dave@example.net`,
      `  python3 -c "import smtplib,ssl; smtplib.SMTP_SSL('127.0.0.1', ${argv['smtps-port']}, context=ssl.create_default_context(cafile='${ca}')).noop()"`,
      '',
    ].join('\n'),
  );
}

