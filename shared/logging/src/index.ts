import { pino, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * The JSON logger every function uses: one line per record, `function` on each line.
 *
 * @example
 * ```ts
 * const logger = createLogger({ name: 'download', level: config.log.level })
 * logger.child({ eventId, type, subject, traceparent }).info('handled')
 * ```
 */
export function createLogger(options: {
  name: string
  level?: LoggerOptions['level']
  destination?: pino.DestinationStream
}): Logger {
  const settings: LoggerOptions = {
    level: options.level ?? 'info',
    base: { function: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }
  return options.destination ? pino(settings, options.destination) : pino(settings)
}
