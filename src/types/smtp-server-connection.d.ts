declare module 'smtp-server/lib/smtp-connection.js' {
  export class SMTPConnection {
    send(code: number, data?: string | string[], context?: string | false): void;
  }
}
