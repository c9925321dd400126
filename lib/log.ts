import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One logger factory for every process. JSON lines by default (what log shippers read);
 * pretty output only when stderr is a TTY and nobody asked for JSON.
 * Logs go to stderr so that stdout stays reserved for command output (`--json`).
 */
export function createLogger(name: string, level = process.env.ZFSLAB_LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.stderr.isTTY && process.env.ZFSLAB_LOG_FORMAT !== 'json';
  if (pretty) {
    return pino({
      name,
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return pino({ name, level }, pino.destination(2));
}
