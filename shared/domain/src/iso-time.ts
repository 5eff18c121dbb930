import * as z from 'zod'

/** A time as the domain writes it: ISO 8601 (`2026-01-01T00:00:00.000Z`). */
export const isoTimeSchema = z.string().describe('An ISO 8601 time.')
