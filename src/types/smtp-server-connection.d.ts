declare module 'smtp-server/lib/smtp-connection.js' {
  export class SMTPConnection {}
}
declare module 'smtp-server/lib/smtp-stream.js' {
  export class SMTPStream {}
}
