declare module 'smtp-server/lib/smtp-connection.js' {
  export class SMTPConnection {}
}
